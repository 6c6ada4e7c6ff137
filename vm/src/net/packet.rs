//! Framing of a TCP byte stream into packets, as OTP's inet_drv does it in
//! C: `{packet, 0}` (raw: whatever has arrived, or exactly the length a
//! `recv/2` asks for), `{packet, 1 | 2 | 4}` (a big-endian length header,
//! then that many bytes) and `{packet, line}` (up to and including a
//! newline; a line longer than the `buffer` option is delivered in pieces
//! of that size, as inet_drv truncates at its buffer). Pure functions over
//! the bytes received so far: the socket calls them each time bytes arrive
//! or someone asks for a packet, and they never read or allocate.

/// How the stream is cut into packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet {
    Raw,
    /// A header of 1, 2 or 4 bytes holding the length of what follows.
    Length(u8),
    Line,
}

/// The largest packet a length header may announce when `packet_size` is 0
/// (inet_drv's `TCP_MAX_PACKET_SIZE`): a peer announcing 4 GB cannot make
/// the VM buffer it.
pub const MAX_PACKET: usize = 64 << 20;

/// What the bytes received so far hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// A packet: its bytes are `start..end` of the input, and the input is
    /// consumed up to `end`.
    Packet { start: usize, end: usize },
    /// Not a whole packet yet.
    More,
    /// The header announces more than `packet_size` allows.
    TooLarge,
}

/// The next packet in `input`. `wanted` is the length a raw `recv/2` asks
/// for (0: whatever there is); `packet_size` the most a packet may hold (0:
/// no limit but [`MAX_PACKET`]); `buffer` the longest line delivered whole.
pub fn cut(input: &[u8], packet: Packet, wanted: usize, packet_size: usize, buffer: usize) -> Cut {
    match packet {
        Packet::Raw if wanted == 0 => {
            if input.is_empty() {
                Cut::More
            } else {
                let end = if buffer == 0 { input.len() } else { input.len().min(buffer) };
                Cut::Packet { start: 0, end }
            }
        }
        Packet::Raw => {
            if input.len() >= wanted {
                Cut::Packet { start: 0, end: wanted }
            } else {
                Cut::More
            }
        }
        Packet::Length(header) => {
            let header = usize::from(header);
            if input.len() < header {
                return Cut::More;
            }
            let length = input[..header].iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
            let limit = if packet_size == 0 { MAX_PACKET } else { packet_size };
            if length > limit {
                Cut::TooLarge
            } else if input.len() - header >= length {
                Cut::Packet { start: header, end: header + length }
            } else {
                Cut::More
            }
        }
        // inet_drv's order: the packet size limit first, then the
        // truncation at the buffer size.
        Packet::Line => {
            let (length, whole) = match input.iter().position(|&b| b == b'\n') {
                Some(newline) => (newline + 1, true),
                None => (input.len(), false),
            };
            if packet_size != 0 && length > packet_size {
                Cut::TooLarge
            } else if buffer != 0 && (length > buffer || (!whole && length >= buffer)) {
                Cut::Packet { start: 0, end: buffer }
            } else if whole {
                Cut::Packet { start: 0, end: length }
            } else {
                Cut::More
            }
        }
    }
}

/// The header a send prepends to `length` bytes. Like inet_drv, a length
/// too large for a 1- or 2-byte header is truncated to its low bytes (the
/// peer then misreads the stream: that is the sender's error, and erl
/// sends the same bytes).
pub fn header(packet: Packet, length: usize) -> Option<([u8; 4], usize)> {
    match packet {
        Packet::Length(size) => {
            let bytes = (length as u32).to_be_bytes();
            let size = usize::from(size);
            let mut out = [0u8; 4];
            out[..size].copy_from_slice(&bytes[4 - size..]);
            Some((out, size))
        }
        Packet::Raw | Packet::Line => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_takes_what_there_is_or_exactly_what_is_asked() {
        assert_eq!(cut(b"", Packet::Raw, 0, 0, 1460), Cut::More);
        assert_eq!(cut(b"abc", Packet::Raw, 0, 0, 1460), Cut::Packet { start: 0, end: 3 });
        assert_eq!(cut(b"abcdef", Packet::Raw, 0, 0, 4), Cut::Packet { start: 0, end: 4 }, "a buffer at a time");
        assert_eq!(cut(b"abcdef", Packet::Raw, 6, 0, 4), Cut::Packet { start: 0, end: 6 });
        assert_eq!(cut(b"abc", Packet::Raw, 5, 0, 1460), Cut::More);
        assert_eq!(cut(b"abcdef", Packet::Raw, 5, 0, 1460), Cut::Packet { start: 0, end: 5 });
    }

    #[test]
    fn length_headers_are_big_endian_and_bounded() {
        assert_eq!(cut(&[0, 3, b'a', b'b'], Packet::Length(2), 0, 0, 1460), Cut::More);
        assert_eq!(
            cut(&[0, 3, b'a', b'b', b'c', b'd'], Packet::Length(2), 0, 0, 1460),
            Cut::Packet { start: 2, end: 5 }
        );
        assert_eq!(cut(&[0], Packet::Length(2), 0, 0, 1460), Cut::More);
        assert_eq!(cut(&[0], Packet::Length(1), 0, 0, 1460), Cut::Packet { start: 1, end: 1 });
        assert_eq!(cut(&[0, 0, 0, 4, 1, 2, 3, 4], Packet::Length(4), 0, 3, 1460), Cut::TooLarge);
        assert_eq!(cut(&[0xff, 0xff, 0xff, 0xff], Packet::Length(4), 0, 0, 1460), Cut::TooLarge);
        assert_eq!(header(Packet::Length(2), 258), Some(([1, 2, 0, 0], 2)));
        assert_eq!(header(Packet::Length(1), 300), Some(([44, 0, 0, 0], 1)), "truncated, as erl does");
        assert_eq!(header(Packet::Length(4), 5), Some(([0, 0, 0, 5], 4)));
        assert_eq!(header(Packet::Raw, 5), None);
    }

    #[test]
    fn lines_end_at_a_newline_or_at_the_buffer_size() {
        assert_eq!(cut(b"ab\ncd\n", Packet::Line, 0, 0, 1460), Cut::Packet { start: 0, end: 3 });
        assert_eq!(cut(b"abcd", Packet::Line, 0, 0, 1460), Cut::More);
        assert_eq!(cut(b"abcdef", Packet::Line, 0, 0, 4), Cut::Packet { start: 0, end: 4 });
        assert_eq!(cut(b"abc\ndef", Packet::Line, 0, 0, 4), Cut::Packet { start: 0, end: 4 });
        assert_eq!(cut(b"abcd\n", Packet::Line, 0, 0, 4), Cut::Packet { start: 0, end: 4 });
        assert_eq!(cut(b"abcdef", Packet::Line, 0, 3, 0), Cut::TooLarge);
    }
}
