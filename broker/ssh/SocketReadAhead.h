#pragma once
// Bigger socket reads for libssh 0.10, whose poll callback reads at most 4 KiB per wake-up
// (socket.c, MAX_BUF_SIZE): relaying 1 GiB cost ~280,000 recv() and ~350,000 poll() calls, 40 % of
// the broker's CPU. For a registered socket, the recv() and poll() that libssh calls (through the
// PLT; the definitions in SocketReadAhead.cpp take precedence over libc's) read up to 64 KiB at
// once, serve libssh's 4 KiB reads from that, and report the socket readable without a system call
// while bytes are buffered. close() ends the registration, whoever closes the descriptor (libssh
// does, on errors and in ssh_free). Other descriptors, and calls from threads other than the one
// that registered, go straight to libc at the cost of one table load.
//
// Setting X2GOJUMP_NO_READAHEAD=1 in the environment turns registration off (for comparisons).
namespace x2gojump::read_ahead {

// Buffers reads of fd, a connected, non-blocking stream socket, for calls from this thread until
// fd is closed. Only the thread that registered fd may read it through recv() or poll() it.
void register_fd(int fd);

}  // namespace x2gojump::read_ahead
