// profgen: a small Go service with a known leak, for leakscope's interop tests.
//
// It serves net/http/pprof on a loopback port chosen by the kernel (":0") and announces the
// base URL on stdout (and in -announce FILE, written atomically once the port is open):
//
//	/leak   main.leakyRemember appends a 64 KiB buffer to a global slice and never drops it
//	/work   main.transientWork allocates as much but keeps nothing (garbage after the request)
//	/park   starts one more goroutine parked forever in main.parkedWorker: a goroutine leak
//	/debug/pprof/...  Go's own profiles: heap, allocs, goroutine, ...
//
// A few goroutines park forever in main.parkedWorker so the goroutine profile has a stack of
// our own. Standard library only; built by the tests with GOPROXY=off.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"sync"
)

const chunk = 64 << 10

var (
	mu       sync.Mutex
	retained [][]byte // grows by one chunk per /leak request: the leak
	sink     int
)

//go:noinline
func leakyRemember(tag byte) {
	b := make([]byte, chunk)
	b[0] = tag
	mu.Lock()
	retained = append(retained, b)
	mu.Unlock()
}

//go:noinline
func transientWork(tag byte) int {
	b := make([]byte, chunk)
	b[len(b)-1] = tag
	sum := 0
	for i := 0; i < len(b); i += 4096 {
		sum += int(b[i])
	}
	return sum
}

//go:noinline
func parkedWorker(never <-chan struct{}) {
	<-never
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	announce := flag.String("announce", "", "write the base URL to this file once listening")
	rate := flag.Int("memprofilerate", 64<<10, "runtime.MemProfileRate (bytes per sample)")
	parked := flag.Int("parked", 3, "goroutines parked forever in main.parkedWorker")
	flag.Parse()
	runtime.MemProfileRate = *rate

	never := make(chan struct{})
	for i := 0; i < *parked; i++ {
		go parkedWorker(never)
	}
	http.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		leakyRemember(byte(len(r.URL.Path)))
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/park", func(w http.ResponseWriter, r *http.Request) {
		go parkedWorker(never)
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sink += transientWork(byte(len(r.URL.Path)))
		mu.Unlock()
		fmt.Fprintln(w, "ok")
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	if *announce != "" {
		tmp := *announce + ".tmp"
		if err := os.WriteFile(tmp, []byte(url+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp, *announce); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(url)
	log.Fatal(http.Serve(ln, nil))
}
