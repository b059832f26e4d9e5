package procstat

import (
	"fmt"
	"io"
	"time"
)

// PrintCPU reports the CPU time a load run took between two samples, by
// process, per certificate (n of them) and in cores: what each
// certificate costs, and who pays. self names the load tool.
func PrintCPU(w io.Writer, self string, c0, c1 CPUSample, n int, span time.Duration) {
	if c1.Total <= c0.Total {
		return // no /proc
	}
	ms := func(ticks int64) float64 { return 1000 * float64(ticks) / ClockTick / float64(n) }
	cores := func(ticks int64) float64 { return float64(ticks) / ClockTick / span.Seconds() }
	busy := c1.Machine - c0.Machine
	fmt.Fprintf(w, "machine: %.0f cores, busy %.2f of them during the run\n", float64(c1.Total-c0.Total)/ClockTick/span.Seconds(), cores(busy))
	if !c1.OK {
		return
	}
	parts := []struct {
		name  string
		ticks int64
	}{
		{"server", c1.Server - c0.Server}, {"PostgreSQL", c1.Postgres - c0.Postgres}, {"plugins", c1.Plugins - c0.Plugins},
		{self, c1.Self - c0.Self},
	}
	var ours int64
	fmt.Fprintf(w, "CPU per certificate:")
	for _, p := range parts {
		ours += p.ticks
		fmt.Fprintf(w, " %s %.2f ms (%.2f cores),", p.name, ms(p.ticks), cores(p.ticks))
	}
	fmt.Fprintf(w, " other processes %.2f ms (%.2f cores)\n", ms(busy-ours), cores(busy-ours))
	product := parts[0].ticks + parts[1].ticks + parts[2].ticks
	fmt.Fprintf(w, "the product (server + PostgreSQL + plugins): %.2f ms of CPU per certificate\n", ms(product))
}
