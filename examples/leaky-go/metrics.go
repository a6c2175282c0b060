package main

// The service's own metrics, served at /metrics in the Prometheus text format 0.0.4:
//
//	leaky_requests_total{route,variant}  requests by registered route: bounded by design;
//	leaky_path_requests_total{path}      by raw path and query: the cardinality leak (one new
//	                                     series per distinct URL, never dropped);
//	leaky_route_requests_total{route}    the fix: by registered route, "other" for the rest;
//	go_goroutines                        so the goroutine patterns show from outside too.
//
// Each by-path/by-route series keeps a latency histogram of latencyBuckets fine buckets, the
// per-series cost that makes cardinality expensive in real client libraries (~1 KiB here).

import (
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

const (
	prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"
	latencyBuckets        = 128
)

var routes = []string{"/append-slice", "/hanging-thread", "/open-file", "/call-backend", "/fanout",
	"/metrics-by-path", "/request-context", "/steady-cache", "/metrics"}

type series struct {
	count   int64
	buckets [latencyBuckets]int64
}

var (
	metricsMu   sync.Mutex
	routeCounts = map[[2]string]int64{} // guarded by metricsMu
	byPath      = map[string]*series{}  // guarded by metricsMu; the leak
	byRoute     = map[string]*series{}  // guarded by metricsMu; the fix
)

func countRouteRequest(route, variant string) {
	metricsMu.Lock()
	routeCounts[[2]string{route, variant}]++
	metricsMu.Unlock()
}

//go:noinline
func leakMetricsByPath(rawTarget string) int64 {
	metricsMu.Lock()
	defer metricsMu.Unlock()
	s, ok := byPath[rawTarget] // the label is the raw path and query
	if !ok {
		if len(byPath) >= capHeapItems {
			return capReached
		}
		s = &series{}
		byPath[rawTarget] = s
	}
	s.count++
	s.buckets[0]++
	return int64(len(byPath))
}

//go:noinline
func fixedMetricsByPath(path string) int64 {
	label := "other"
	for _, r := range routes {
		if r == path {
			label = r
		}
	}
	metricsMu.Lock()
	defer metricsMu.Unlock()
	s, ok := byRoute[label]
	if !ok {
		s = &series{}
		byRoute[label] = s
	}
	s.count++
	s.buckets[0]++
	return int64(len(byRoute))
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func appendFamily(b *strings.Builder, name, help, label string, family map[string]*series) {
	b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n")
	keys := make([]string, 0, len(family))
	for k := range family {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(name + "{" + label + `="` + labelEscaper.Replace(k) + `"} ` +
			strconv.FormatInt(family[k].count, 10) + "\n")
	}
}

// renderMetrics renders every family; the text ends with a newline.
func renderMetrics() string {
	metricsMu.Lock()
	defer metricsMu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP go_goroutines Number of goroutines that currently exist.\n")
	b.WriteString("# TYPE go_goroutines gauge\n")
	b.WriteString("go_goroutines " + strconv.Itoa(runtime.NumGoroutine()) + "\n")
	b.WriteString("# HELP leaky_requests_total Requests by registered route and variant.\n")
	b.WriteString("# TYPE leaky_requests_total counter\n")
	keys := make([][2]string, 0, len(routeCounts))
	for k := range routeCounts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		b.WriteString(`leaky_requests_total{route="` + labelEscaper.Replace(k[0]) + `",variant="` + k[1] +
			`"} ` + strconv.FormatInt(routeCounts[k], 10) + "\n")
	}
	appendFamily(&b, "leaky_path_requests_total", "Requests by raw path and query (the cardinality leak).",
		"path", byPath)
	appendFamily(&b, "leaky_route_requests_total",
		`Requests by registered route, other paths as "other" (the fix).`, "route", byRoute)
	return b.String()
}
