package main

// Heap patterns: memory that stays reachable, so the garbage collector never frees it.
//
//	append-slice     a global slice gets one 2 KiB record per request and is never trimmed.
//	                 Fix: a ring of ringSlots records; the oldest is overwritten.
//	request-context  each request's context goes into a global map keyed by request id and is
//	                 never deleted. Fix: deleted when the request ends (defer), plus a purge by
//	                 age for contexts whose request died before its defer ran.
//	steady-cache     the control: an LRU cache of cacheEntries values of 2 KiB. It fills during
//	                 the first thousand or so misses, then evicts one entry per miss: in-use
//	                 heap climbs to ~2 MiB and stays flat under any load. Not a leak.
//
// Each allocation that persists is made inside the named function itself, so the function is
// on the allocation's stack in the heap profile.

import (
	"container/list"
	"encoding/binary"
	"sync"
	"time"
)

const (
	capReached   = -1 // the safety cap stopped the leak: HTTP 503
	failed       = -2 // an error, e.g. the backend is unreachable: HTTP 502
	leakBytes    = 2048
	capHeapItems = 65536 // x ~2 KiB: at most ~128 MiB per pattern
	capGoroutine = 6000
	capFds       = 6000
	ringSlots    = 256
	cacheEntries = 1024
	contextAge   = 10 * time.Second
)

var (
	appendMu sync.Mutex
	appended [][]byte // guarded by appendMu; one record per leak request
	ring     [][]byte // guarded by appendMu; at most ringSlots records
	ringNext int      // guarded by appendMu
)

//go:noinline
func leakAppendSlice(id int64) int64 {
	appendMu.Lock()
	defer appendMu.Unlock()
	if len(appended) >= capHeapItems {
		return capReached
	}
	record := make([]byte, leakBytes)
	binary.LittleEndian.PutUint64(record, uint64(id))
	appended = append(appended, record)
	return int64(len(appended))
}

//go:noinline
func fixedAppendSlice(id int64) int64 {
	appendMu.Lock()
	defer appendMu.Unlock()
	record := make([]byte, leakBytes)
	binary.LittleEndian.PutUint64(record, uint64(id))
	if len(ring) < ringSlots {
		ring = append(ring, record)
	} else {
		ring[ringNext%ringSlots] = record
	}
	ringNext++
	return int64(len(ring))
}

type requestContext struct {
	id      int64
	start   time.Time
	target  string
	scratch [leakBytes]byte // per-request working memory (parsed headers, auth claims, ...)
}

var (
	ctxMu          sync.Mutex
	nextContextID  int64                         // guarded by ctxMu
	leakedContexts = map[int64]*requestContext{} // guarded by ctxMu; never deleted from
	liveContexts   = map[int64]*requestContext{} // guarded by ctxMu; one request's lifetime
	purgeCountdown = 256                         // guarded by ctxMu
)

func workOn(c *requestContext) int {
	sum := int(c.scratch[0])
	for i := 0; i < len(c.target); i++ {
		sum += int(c.target[i])
	}
	return sum
}

//go:noinline
func leakRequestContext(target string) int64 {
	ctxMu.Lock()
	defer ctxMu.Unlock()
	if len(leakedContexts) >= capHeapItems {
		return capReached
	}
	nextContextID++
	c := &requestContext{id: nextContextID, start: time.Now(), target: target}
	leakedContexts[c.id] = c // and nobody ever deletes it
	workOn(c)
	return int64(len(leakedContexts))
}

//go:noinline
func fixedRequestContext(target string) int64 {
	ctxMu.Lock()
	defer ctxMu.Unlock()
	nextContextID++
	c := &requestContext{id: nextContextID, start: time.Now(), target: target}
	liveContexts[c.id] = c
	defer delete(liveContexts, c.id) // the request's scope: its context leaves with it
	workOn(c)
	if purgeCountdown--; purgeCountdown == 0 {
		purgeCountdown = 256
		now := time.Now()
		for id, old := range liveContexts {
			if now.Sub(old.start) > contextAge {
				delete(liveContexts, id)
			}
		}
	}
	return int64(len(liveContexts))
}

type cacheEntry struct {
	key   int64
	value []byte
}

var (
	cacheMu  sync.Mutex
	lru      = list.New()                // guarded by cacheMu; front = most recent
	lruIndex = map[int64]*list.Element{} // guarded by cacheMu; <= cacheEntries
)

//go:noinline
func steadyCacheLookup(key int64) int64 {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if e, ok := lruIndex[key]; ok {
		lru.MoveToFront(e)
		return int64(lru.Len())
	}
	if lru.Len() >= cacheEntries {
		oldest := lru.Back()
		delete(lruIndex, oldest.Value.(*cacheEntry).key)
		lru.Remove(oldest)
	}
	value := make([]byte, leakBytes)
	binary.LittleEndian.PutUint64(value, uint64(key))
	lruIndex[key] = lru.PushFront(&cacheEntry{key: key, value: value})
	return int64(lru.Len())
}
