// A Rust program for the symbolizer tests (rust_inline_test.cc): rustc nests the DWARF of each
// function inside namespace (and, for methods, impl or type) entries. It prints the address
// (minus one: inside the call instruction) that Holder::outer's inlined call of middle() returns
// to; built non-PIE, so that is the ELF virtual address. The markers name the lines the test
// expects; std only, builds with rustc 1.63 and later.
pub mod outer_mod {
    pub mod inner {
        extern "C" {
            fn backtrace(buf: *mut *mut u8, size: i32) -> i32;
        }
        // A volatile store after each call keeps it from being a tail call (which would drop the
        // frame) and from being folded away.
        static mut SINK: usize = 0;

        #[inline(never)]
        pub fn leaf() -> usize {
            let mut buf = [std::ptr::null_mut(); 4];
            let n = unsafe { backtrace(buf.as_mut_ptr(), 4) };
            if n < 2 {
                0
            } else {
                buf[1] as usize
            }
        }

        #[inline(always)]
        fn middle() -> usize {
            let r = leaf(); // MIDDLE_CALL
            unsafe { std::ptr::write_volatile(std::ptr::addr_of_mut!(SINK), r) };
            r
        }

        pub struct Holder;
        impl Holder {
            #[inline(never)]
            pub fn outer(&self) -> usize {
                let r = middle(); // OUTER_CALL
                unsafe { std::ptr::write_volatile(std::ptr::addr_of_mut!(SINK), r + 1) };
                r
            }
        }
    }
}

fn main() {
    println!("{:x}", outer_mod::inner::Holder.outer() - 1);
}
