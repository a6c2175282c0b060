module leakscope/examples/leaky-go

go 1.19
