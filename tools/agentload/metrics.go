package main

// metrics.go scrapes the server's /metrics (Prometheus text format) and
// reads the few series the report needs. A small parser of its own keeps
// the tool free of extra dependencies.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// series is one sample: its metric name, labels and value.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape is one reading of /metrics.
type scrape struct {
	at     time.Time
	series []series
}

func scrapeMetrics(ctx context.Context, hc *http.Client, base string) (*scrape, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	s := &scrape{at: time.Now()}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if x, ok := parseSeries(sc.Text()); ok {
			s.series = append(s.series, x)
		}
	}
	return s, sc.Err()
}

// parseSeries parses `name{a="b",c="d"} value` (a timestamp after the
// value, if any, is ignored).
func parseSeries(line string) (series, bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return series{}, false
	}
	var x series
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return series{}, false
	}
	x.name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		x.labels = map[string]string{}
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " ,")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return series{}, false
			}
			key := rest[:eq]
			rest = rest[eq+2:]
			var val strings.Builder
			j := 0
			for ; j < len(rest) && rest[j] != '"'; j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
					switch rest[j] {
					case 'n':
						val.WriteByte('\n')
					default:
						val.WriteByte(rest[j])
					}
					continue
				}
				val.WriteByte(rest[j])
			}
			if j >= len(rest) {
				return series{}, false
			}
			x.labels[key] = val.String()
			rest = rest[j+1:]
		}
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return series{}, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return series{}, false
	}
	x.value = v
	return x, true
}

// get returns the value of the series name whose labels include want,
// summed over every matching series; ok is false when none matches.
func (s *scrape) get(name string, want map[string]string) (float64, bool) {
	if s == nil {
		return 0, false
	}
	var sum float64
	found := false
	for _, x := range s.series {
		if x.name != name || !labelsMatch(x.labels, want) {
			continue
		}
		sum += x.value
		found = true
	}
	return sum, found
}

func labelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// bucket is one cumulative histogram bucket.
type bucket struct {
	le    float64
	count float64
}

// histogram returns the cumulative buckets of a histogram for the labels.
func (s *scrape) histogram(name string, want map[string]string) []bucket {
	if s == nil {
		return nil
	}
	byLE := map[float64]float64{}
	for _, x := range s.series {
		if x.name != name+"_bucket" || !labelsMatch(x.labels, want) {
			continue
		}
		le, err := strconv.ParseFloat(x.labels["le"], 64)
		if x.labels["le"] == "+Inf" {
			le, err = math.Inf(1), nil
		}
		if err != nil {
			continue
		}
		byLE[le] += x.value
	}
	out := make([]bucket, 0, len(byLE))
	for le, n := range byLE {
		out = append(out, bucket{le, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].le < out[j].le })
	return out
}

// histogramDelta is what a histogram counted between two scrapes.
func histogramDelta(before, after []bucket) []bucket {
	prev := map[float64]float64{}
	for _, b := range before {
		prev[b.le] = b.count
	}
	out := make([]bucket, len(after))
	for i, b := range after {
		out[i] = bucket{b.le, b.count - prev[b.le]}
	}
	return out
}

// quantileBound returns the upper bound of the bucket holding quantile q,
// and the share of observations at or under limit.
func quantileBound(h []bucket, q, limit float64) (bound float64, under float64, total float64) {
	if len(h) == 0 {
		return math.NaN(), math.NaN(), 0
	}
	total = h[len(h)-1].count
	if total <= 0 {
		return math.NaN(), math.NaN(), 0
	}
	bound = math.Inf(1)
	for _, b := range h {
		if b.count >= q*total {
			bound = b.le
			break
		}
	}
	for _, b := range h {
		if b.le <= limit {
			under = b.count / total
		}
	}
	return bound, under, total
}
