#!/bin/sh
# Regenerates the provider's documentation in docs/provider from the
# provider's schema descriptions and the configurations under examples/,
# with HashiCorp's tfplugindocs. It works offline: the provider is built
# here and its schema read by the terraform on PATH through dev_overrides
# (tfplugindocs would otherwise build it and may download a terraform).
# Run from anywhere: provider/gendocs.sh. TestDocs checks the result is
# current.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
TFPLUGINDOCS=${TFPLUGINDOCS:-github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs@v0.25.0}
GO=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$GO" build -o "$tmp/bin/" "$root/provider/cmd/terraform-provider-certctl"
cat >"$tmp/terraformrc" <<CONF
provider_installation {
  dev_overrides {
    "certctl/certctl" = "$tmp/bin"
  }
  direct {}
}
CONF
mkdir "$tmp/schema"
cat >"$tmp/schema/main.tf" <<'CONF'
terraform {
  required_providers {
    certctl = { source = "certctl/certctl" }
  }
}
CONF
TF_CLI_CONFIG_FILE="$tmp/terraformrc" terraform -chdir="$tmp/schema" providers schema -json >"$tmp/schema.json"
# tfplugindocs looks the provider up by its short name.
sed -i 's#"registry.terraform.io/certctl/certctl"#"certctl"#' "$tmp/schema.json"

GOBIN="$tmp/tools" "$GO" install "$TFPLUGINDOCS"
rm -rf "$root/docs/provider"
cd "$root"
"$tmp/tools/tfplugindocs" generate --provider-dir . --provider-name certctl --rendered-provider-name certctl \
  --providers-schema "$tmp/schema.json" --examples-dir examples --rendered-website-dir docs/provider \
  --website-temp-dir "$tmp/website" --website-source-dir provider/templates
