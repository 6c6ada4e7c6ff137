//! A socket's options, as `inet:setopts/2` and `inet:getopts/2` name them,
//! with OTP's defaults (inet_drv's: `{buffer, 1460}`, `{high_watermark,
//! 8192}`, `{low_watermark, 4096}`, `{exit_on_close, true}`, ...). What
//! the socket itself keeps (mode, packet type, active mode, watermarks)
//! lives in [`Options`]; what the kernel keeps (`nodelay`, buffer sizes,
//! `linger`) is set on the descriptor and read back from it. The terms
//! are parsed in `natives/inet.rs`; this module sees only [`Setting`]s.

use std::net::Ipv4Addr;

use super::packet::Packet;

/// How received bytes reach the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Binary,
    List,
}

/// `{active, A}`: whether received packets are sent to the owner as
/// messages, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Active {
    False,
    True,
    Once,
    /// `{active, N}`: N more packets, then `{tcp_passive, S}`.
    Count(u16),
}

/// The most an `{active, N}` count may reach (inet_drv's limit).
pub const MAX_ACTIVE_COUNT: i32 = 32767;

/// One option of a `listen`, `connect` or `setopts` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Mode(Mode),
    /// `{active, N}` adds N to the count (it may be negative); the others
    /// replace the mode.
    Active(Active),
    ActiveAdd(i32),
    Packet(Packet),
    PacketSize(u32),
    Buffer(u32),
    HighWatermark(u32),
    LowWatermark(u32),
    /// Milliseconds, or `None` for `infinity`.
    SendTimeout(Option<u32>),
    SendTimeoutClose(bool),
    ExitOnClose(bool),
    DelaySend(bool),
    Nodelay(bool),
    Keepalive(bool),
    Reuseaddr(bool),
    /// `{linger, {true, Seconds}}`, or `None` for `{false, _}`.
    Linger(Option<u16>),
    Recbuf(u32),
    Sndbuf(u32),
    /// The address to bind (`{ip, A}`, `{ifaddr, A}`).
    Ip(Ipv4Addr),
    /// The local port to bind (`{port, P}`).
    Port(u16),
    Backlog(u32),
    /// `inet` (the only address family supported), `{deliver, term}` and
    /// `{header, 0}`: accepted, nothing to do.
    Accepted,
}

impl Setting {
    /// Whether the setting is the kernel's, set on the descriptor.
    pub fn is_of_descriptor(self) -> bool {
        matches!(
            self,
            Setting::Nodelay(_)
                | Setting::Keepalive(_)
                | Setting::Reuseaddr(_)
                | Setting::Recbuf(_)
                | Setting::Sndbuf(_)
                | Setting::Linger(_)
        )
    }

    /// Whether the setting can only be given when the socket is made
    /// (`setopts` refuses it with `einval`).
    pub fn at_creation_only(self) -> bool {
        matches!(self, Setting::Ip(_) | Setting::Port(_) | Setting::Backlog(_))
    }
}

/// What a socket keeps of its options. Small (an idle connection's memory
/// is part of the product), and copied whole to an accepted socket, which
/// inherits its listener's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub mode: Mode,
    pub active: Active,
    pub packet: Packet,
    pub packet_size: u32,
    pub buffer: u32,
    pub high_watermark: u32,
    pub low_watermark: u32,
    pub send_timeout: Option<u32>,
    pub send_timeout_close: bool,
    pub exit_on_close: bool,
    pub delay_send: bool,
    pub nodelay: bool,
    pub keepalive: bool,
    pub reuseaddr: bool,
    pub linger: Option<u16>,
}

impl Default for Options {
    /// gen_tcp's defaults: `list`, `{active, true}`, `{packet, 0}`.
    fn default() -> Options {
        Options {
            mode: Mode::List,
            active: Active::True,
            packet: Packet::Raw,
            packet_size: 0,
            buffer: 1460,
            high_watermark: 8192,
            low_watermark: 4096,
            send_timeout: None,
            send_timeout_close: false,
            exit_on_close: true,
            delay_send: false,
            nodelay: false,
            keepalive: false,
            reuseaddr: false,
            linger: None,
        }
    }
}

/// An `{active, N}` that would take the count past [`MAX_ACTIVE_COUNT`]
/// (`setopts` answers `einval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountTooLarge;

/// What applying `{active, _}` asks of the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveChange {
    Set,
    /// The count reached 0 or below: passive now, and `{tcp_passive, S}`.
    Passive,
}

impl Options {
    /// Applies a setting the socket itself keeps; `Err` for a count out of
    /// range (`einval`). Settings of the descriptor are the caller's.
    pub fn apply(&mut self, setting: Setting) -> Result<Option<ActiveChange>, CountTooLarge> {
        match setting {
            Setting::Mode(mode) => self.mode = mode,
            Setting::Active(active) => {
                self.active = active;
                return Ok(Some(ActiveChange::Set));
            }
            Setting::ActiveAdd(n) => {
                let current = match self.active {
                    Active::Count(c) => i32::from(c),
                    _ => 0,
                };
                let count = current + n;
                if count > MAX_ACTIVE_COUNT {
                    return Err(CountTooLarge);
                }
                if count <= 0 {
                    self.active = Active::False;
                    return Ok(Some(ActiveChange::Passive));
                }
                self.active = Active::Count(count as u16);
                return Ok(Some(ActiveChange::Set));
            }
            Setting::Packet(packet) => self.packet = packet,
            Setting::PacketSize(n) => self.packet_size = n,
            Setting::Buffer(n) => self.buffer = n.max(1),
            // As inet_drv: raising one watermark past the other moves the other.
            Setting::HighWatermark(n) => {
                self.high_watermark = n;
                self.low_watermark = self.low_watermark.min(n);
            }
            Setting::LowWatermark(n) => {
                self.low_watermark = n;
                self.high_watermark = self.high_watermark.max(n);
            }
            Setting::SendTimeout(t) => self.send_timeout = t,
            Setting::SendTimeoutClose(b) => self.send_timeout_close = b,
            Setting::ExitOnClose(b) => self.exit_on_close = b,
            Setting::DelaySend(b) => self.delay_send = b,
            Setting::Nodelay(b) => self.nodelay = b,
            Setting::Keepalive(b) => self.keepalive = b,
            Setting::Reuseaddr(b) => self.reuseaddr = b,
            Setting::Linger(l) => self.linger = l,
            Setting::Recbuf(_)
            | Setting::Sndbuf(_)
            | Setting::Ip(_)
            | Setting::Port(_)
            | Setting::Backlog(_)
            | Setting::Accepted => {}
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_counts_add_up_and_end_passive() {
        let mut options = Options::default();
        assert_eq!(options.apply(Setting::ActiveAdd(2)), Ok(Some(ActiveChange::Set)));
        assert_eq!(options.active, Active::Count(2));
        assert_eq!(options.apply(Setting::ActiveAdd(3)), Ok(Some(ActiveChange::Set)));
        assert_eq!(options.active, Active::Count(5));
        assert_eq!(options.apply(Setting::ActiveAdd(-5)), Ok(Some(ActiveChange::Passive)));
        assert_eq!(options.active, Active::False);
        assert_eq!(options.apply(Setting::ActiveAdd(40_000)), Err(CountTooLarge));
        options.apply(Setting::Active(Active::Once)).unwrap();
        assert_eq!(options.apply(Setting::ActiveAdd(1)), Ok(Some(ActiveChange::Set)));
        assert_eq!(options.active, Active::Count(1), "a count starts from 0 when the mode was not a count");
    }

    #[test]
    fn the_watermarks_stay_ordered() {
        let mut options = Options::default();
        options.apply(Setting::HighWatermark(1000)).unwrap();
        assert_eq!((options.low_watermark, options.high_watermark), (1000, 1000));
        options.apply(Setting::LowWatermark(5000)).unwrap();
        assert_eq!((options.low_watermark, options.high_watermark), (5000, 5000));
    }
}
