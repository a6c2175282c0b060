// A small Go service for tests/integration/run_short_go.sh: every request keeps 1.5 KB in a
// global map (leak: main.rememberSession) and leaves a goroutine parked forever (leak:
// main.waitForever). Serves net/http/pprof on a second port. Runs at Go's default
// MemProfileRate (512 KiB) unless GODEBUG says otherwise. Usage: gosvc PORT_FILE DEBUG_ADDR
package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"sync"
)

var (
	mu       sync.Mutex
	sessions = map[int][]byte{}
	next     int
	never    = make(chan struct{})
)

//go:noinline
func rememberSession(id int) {
	b := make([]byte, 1536)
	b[0] = byte(id)
	mu.Lock()
	sessions[id] = b
	mu.Unlock()
}

//go:noinline
func waitForever() { <-never }

func listen(file string) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	os.WriteFile(file+".tmp", []byte(fmt.Sprintf("%d\n", l.Addr().(*net.TCPAddr).Port)), 0o644)
	os.Rename(file+".tmp", file)
	return l
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		id := next
		next++
		mu.Unlock()
		rememberSession(id)
		go waitForever()
		fmt.Fprintln(w, "ok")
	})
	go http.ListenAndServe(os.Args[2], http.DefaultServeMux)
	app := listen(os.Args[1])
	http.Serve(app, mux)
}
