//! Lets libFuzzer record a stack overflow as a crash with its input. Under a sanitizer its
//! SIGSEGV handler runs on an alternate stack; without one (`-s none`) nothing sets that up
//! (`#![no_main]` also skips Rust's own overflow handler), so an overflow would kill the
//! process before libFuzzer could write the input. `install` (first call of any target, on
//! the fuzzing thread) gives this thread an alternate signal stack and re-installs the
//! current SIGSEGV/SIGBUS actions (libFuzzer's) with `SA_ONSTACK`.
//!
//! Only the cargo-fuzz binaries (`cfg(fuzzing)`) need it; elsewhere `install` does nothing.

#[cfg(fuzzing)]
const ALT_STACK_SIZE: usize = 1 << 20;

#[cfg(fuzzing)]
pub(crate) fn install() {
    use std::sync::Once;

    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let stack: &'static mut [u8] = Vec::leak(vec![0u8; ALT_STACK_SIZE]);
        let alt = libc::stack_t {
            ss_sp: stack.as_mut_ptr().cast(),
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        // SAFETY: `alt` describes a leaked (never freed) buffer of ALT_STACK_SIZE bytes;
        // `sigaction` reads and writes only the structs passed by pointer, which are
        // initialized (zeroed, then filled by the kernel) before being passed back.
        unsafe {
            if libc::sigaltstack(&alt, std::ptr::null_mut()) != 0 {
                return;
            }
            for signal in [libc::SIGSEGV, libc::SIGBUS] {
                let mut action: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, std::ptr::null(), &mut action) == 0 {
                    action.sa_flags |= libc::SA_ONSTACK;
                    libc::sigaction(signal, &action, std::ptr::null_mut());
                }
            }
        }
    });
}

#[cfg(not(fuzzing))]
#[inline]
pub(crate) fn install() {}
