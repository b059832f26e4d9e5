package doctest

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// Block is one fenced block of a document, with the directives written
// above it.
type Block struct {
	Line       int    // line of the opening fence, 1-based
	Lang       string // first word of the info string
	Text       string
	Skip       string // reason, when a skip directive applies
	MakeRun    bool
	Restart    bool
	Background bool
	Cleanup    bool
	FreePorts  []string // addresses a free-port directive introduces here
	Output     *Block   // the expected-output block that follows a sh block
}

// Runs reports whether the block is a shell block the runner executes.
func (b *Block) Runs() bool { return b.Lang == "sh" || b.Lang == "bash" }

var directiveLine = regexp.MustCompile(`^\s*<!--\s*doctest:\s*(.*?)\s*-->\s*$`)

// Parse reads a Markdown document into its shell blocks, each with its
// directives and expected output. Other blocks are dropped. name is used in
// error messages.
func Parse(name, doc string) ([]*Block, error) {
	var (
		blocks  []*Block
		pending Block // directives waiting for the next fenced block
		last    *Block
		sc      = bufio.NewScanner(strings.NewReader(doc))
		lineNo  int
	)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if m := directiveLine.FindStringSubmatch(line); m != nil {
			if err := pending.apply(m[1]); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
			}
			continue
		}
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if !strings.HasPrefix(trimmed, "```") {
			continue
		}
		fence := trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`"))]
		info := strings.Fields(strings.TrimPrefix(trimmed, fence))
		b := pending
		pending = Block{}
		b.Line = lineNo
		if len(info) > 0 {
			b.Lang = info[0]
		}
		var body []string
		closed := false
		for sc.Scan() {
			lineNo++
			l := sc.Text()
			if t := strings.TrimLeft(l, " "); strings.HasPrefix(t, fence) && strings.TrimSpace(strings.TrimLeft(t, "`")) == "" {
				closed = true
				break
			}
			// Blocks indented in lists lose that indentation.
			for i := 0; i < indent && strings.HasPrefix(l, " "); i++ {
				l = l[1:]
			}
			body = append(body, l)
		}
		if !closed {
			return nil, fmt.Errorf("%s:%d: fenced block is not closed", name, b.Line)
		}
		b.Text = strings.Join(body, "\n") + "\n"
		switch {
		case b.Runs():
			blocks = append(blocks, &b)
			last = &b
		case (b.Lang == "" || b.Lang == "text") && last != nil:
			if b.MakeRun || b.Restart || b.Background || b.Cleanup || len(b.FreePorts) > 0 {
				return nil, fmt.Errorf("%s:%d: directive on an output block", name, b.Line)
			}
			if b.Skip == "" {
				last.Output = &b
			}
			last = nil
		default:
			if b.hasDirective() {
				return nil, fmt.Errorf("%s:%d: doctest directive on a %q block, which is not run", name, b.Line, b.Lang)
			}
			last = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if pending.hasDirective() {
		return nil, fmt.Errorf("%s: doctest directive after the last fenced block", name)
	}
	return blocks, nil
}

func (b *Block) hasDirective() bool {
	return b.Skip != "" || b.MakeRun || b.Restart || b.Background || b.Cleanup || len(b.FreePorts) > 0
}

// apply records one directive ("skip: reason", "make-run", ...).
func (b *Block) apply(d string) error {
	word, arg, _ := strings.Cut(d, " ")
	word = strings.TrimSuffix(word, ":")
	arg = strings.TrimSpace(arg)
	switch word {
	case "skip":
		if arg == "" {
			return fmt.Errorf("doctest: skip needs a reason (<!-- doctest: skip: why -->)")
		}
		b.Skip = arg
	case "make-run":
		b.MakeRun = true
	case "restart-server":
		b.Restart = true
	case "background":
		b.Background = true
	case "cleanup":
		b.Cleanup = true
	case "free-port":
		if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(arg) {
			return fmt.Errorf("doctest: free-port wants 127.0.0.1:<port>, got %q", arg)
		}
		b.FreePorts = append(b.FreePorts, arg)
	default:
		return fmt.Errorf("unknown doctest directive %q", d)
	}
	return nil
}
