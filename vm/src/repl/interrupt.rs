//! Ctrl-C while a command runs. The line editor reads with the terminal in
//! raw mode, where Ctrl-C is a key (it drops the line being typed); while a
//! command runs the terminal is in its usual mode and Ctrl-C is SIGINT,
//! which would end the VM and every binding with it. Here SIGINT is
//! blocked in every thread of the VM and taken by one thread with
//! `sigwait`, which asks the shell server to kill the evaluator: the
//! command ends with `** exception exit: killed` and the prompt comes
//! back, with the bindings kept.

/// Blocks SIGINT in the calling thread, and so in every thread it starts
/// from now on (they inherit its mask). Call before the VM's threads start.
pub fn block() -> bool {
    // SAFETY: the set is initialised by sigemptyset before use, and both
    // calls only read and write it and the thread's own signal mask.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) == 0
    }
}

/// Starts the thread that calls `interrupt` at each SIGINT (which
/// [`block`] must have blocked).
pub fn watch(interrupt: impl Fn() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new().name("interrupts".to_owned()).spawn(move || loop {
        let mut signal = 0;
        // SAFETY: as in `block`; sigwait writes the signal number into
        // `signal`, which outlives the call.
        let waited = unsafe {
            let mut set = std::mem::zeroed::<libc::sigset_t>();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigwait(&set, &mut signal)
        };
        if waited == 0 && signal == libc::SIGINT {
            interrupt();
        }
    })?;
    Ok(())
}
