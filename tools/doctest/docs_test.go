package doctest

import "testing"

// The documents a new user follows first run as tests, in order, against
// the binaries in bin/.

func TestReadme(t *testing.T) { Run(t, "README.md") }

func TestQuickstart(t *testing.T) { Run(t, "docs/quickstart.md") }

func TestAgentGuide(t *testing.T) {
	NeedTools(t, "nginx")
	Binary(t, "certctl-agent")
	Binary(t, "plugins/certctl-plugin-target-nginx")
	Run(t, "docs/agent.md")
}
