module leakscope.example/goheap

go 1.19
