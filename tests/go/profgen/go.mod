module leakscope.test/profgen

go 1.19
