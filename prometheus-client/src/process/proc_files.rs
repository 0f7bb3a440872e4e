//! Reading and parsing the `/proc` files the process families come from.

use std::fs::File;
use std::io::{self, Read};

/// Linux reports process times in `USER_HZ` ticks, 100 a second on every architecture
/// (the kernel converts from its own `HZ`); client_golang uses the same constant.
pub(super) const TICKS_PER_SECOND: f64 = 100.0;

/// What an unlimited resource limit is written as (client_golang's procfs reads
/// `unlimited` as the largest `u64`).
pub(super) const UNLIMITED: f64 = u64::MAX as f64;

/// Reads the whole of `path` into `buffer`, keeping its capacity: at least 4 KiB, more than
/// the `/proc` files read here hold, so that a file growing by a digit between scrapes
/// (a counter, a memory size) allocates nothing either.
pub(super) fn read_into(path: &str, buffer: &mut Vec<u8>) -> io::Result<()> {
    buffer.clear();
    buffer.reserve(4096);
    File::open(path)?.read_to_end(buffer)?;
    Ok(())
}

/// The fields of `/proc/self/stat` the process families use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Stat {
    /// `utime + stime`, in ticks.
    pub(super) cpu_ticks: u64,
    /// `num_threads`.
    pub(super) threads: u64,
    /// `starttime`: ticks after boot.
    pub(super) start_ticks: u64,
    /// `vsize`, in bytes.
    pub(super) virtual_bytes: u64,
    /// `rss`, in pages.
    pub(super) resident_pages: u64,
}

/// Parses `/proc/<pid>/stat` (proc(5)). The command name, field 2, is in parentheses and may
/// itself contain spaces and parentheses, so fields are counted from the last `)`.
pub(super) fn parse_stat(text: &[u8]) -> Option<Stat> {
    let after_name = text.iter().rposition(|&b| b == b')')? + 1;
    let mut fields = text[after_name..]
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty());
    // `fields` starts at field 3 (state); `nth` counts from what is left.
    let mut field = |skip: usize| fields.nth(skip).and_then(parse_u64);
    let utime = field(14 - 3)?;
    let stime = field(0)?;
    let threads = field(20 - 16)?;
    let start_ticks = field(22 - 21)?;
    let virtual_bytes = field(0)?;
    let resident_pages = field(0)?;
    Some(Stat {
        cpu_ticks: utime.checked_add(stime)?,
        threads,
        start_ticks,
        virtual_bytes,
        resident_pages,
    })
}

/// The soft limit of the row of `/proc/<pid>/limits` named `name` (such as
/// `Max open files`), `UNLIMITED` for `unlimited`.
pub(super) fn parse_soft_limit(text: &[u8], name: &str) -> Option<f64> {
    text.split(|&b| b == b'\n').find_map(|line| {
        let rest = line.strip_prefix(name.as_bytes())?;
        // The row's name is padded with spaces; a longer name with this prefix is not it.
        if rest.first() != Some(&b' ') {
            return None;
        }
        let soft = words(rest).next()?;
        if soft == b"unlimited" {
            Some(UNLIMITED)
        } else {
            parse_u64(soft).map(|v| v as f64)
        }
    })
}

/// `btime` of `/proc/stat`: when the system booted, in seconds since the epoch.
pub(super) fn parse_boot_time(text: &[u8]) -> Option<u64> {
    text.split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"btime "))
        .and_then(|v| parse_u64(v.trim_ascii()))
}

/// `InOctets` and `OutOctets` of the `IpExt` rows of `/proc/<pid>/net/netstat`: a row of
/// names followed by a row of values.
pub(super) fn parse_ip_octets(text: &[u8]) -> Option<(u64, u64)> {
    let mut rows = text
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"IpExt:"));
    let names = rows.next()?;
    let values = rows.next()?;
    let mut received = None;
    let mut sent = None;
    for (name, value) in words(names).zip(words(values)) {
        match name {
            b"InOctets" => received = parse_u64(value),
            b"OutOctets" => sent = parse_u64(value),
            _ => {}
        }
    }
    Some((received?, sent?))
}

/// The page size from the auxiliary vector (`/proc/self/auxv`: native-endian word pairs of
/// type and value; `AT_PAGESZ` is 6).
pub(super) fn parse_page_size(auxv: &[u8]) -> Option<u64> {
    const AT_PAGESZ: u64 = 6;
    const WORD: usize = std::mem::size_of::<usize>();
    let word = |bytes: &[u8]| -> u64 {
        let mut buf = [0u8; WORD];
        buf.copy_from_slice(bytes);
        usize::from_ne_bytes(buf) as u64
    };
    auxv.chunks_exact(2 * WORD)
        .map(|pair| (word(&pair[..WORD]), word(&pair[WORD..])))
        .take_while(|&(kind, _)| kind != 0)
        .find(|&(kind, _)| kind == AT_PAGESZ)
        .map(|(_, size)| size)
        .filter(|&size| size > 0)
}

/// The space-separated words of `row`.
fn words(row: &[u8]) -> impl Iterator<Item = &[u8]> {
    row.split(|&b| b == b' ').filter(|w| !w.is_empty())
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let text = b"4242 (a (b) c) S 1 4242 4242 0 -1 4194304 100 0 0 0 \
                     250 37 0 0 20 0 9 0 123456 987654321 2048 18446744073709551615 \
                     1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                cpu_ticks: 287,
                threads: 9,
                start_ticks: 123456,
                virtual_bytes: 987654321,
                resident_pages: 2048,
            })
        );
    }

    #[test]
    fn truncated_or_garbled_stat_is_refused() {
        assert_eq!(parse_stat(b"1 (x) S 1 2 3"), None);
        assert_eq!(parse_stat(b"no parenthesis"), None);
        let garbled = b"1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 37 0 0 20 0 9 0 1 2 3\n";
        assert_eq!(parse_stat(garbled), None);
    }

    const LIMITS: &[u8] =
        b"Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              unlimited            unlimited            seconds   \n\
Max open files            1024                 1048576              files     \n\
Max address space         unlimited            unlimited            bytes     \n";

    #[test]
    fn soft_limits_are_read_by_row_name() {
        assert_eq!(parse_soft_limit(LIMITS, "Max open files"), Some(1024.0));
        assert_eq!(
            parse_soft_limit(LIMITS, "Max address space"),
            Some(UNLIMITED)
        );
        assert_eq!(parse_soft_limit(LIMITS, "Max open"), None);
        assert_eq!(parse_soft_limit(LIMITS, "Max locked memory"), None);
    }

    #[test]
    fn boot_time_is_the_btime_row() {
        let text = b"cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n";
        assert_eq!(parse_boot_time(text), Some(1_700_000_000));
        assert_eq!(parse_boot_time(b"cpu 1\n"), None);
    }

    #[test]
    fn ip_octets_are_matched_by_column_name() {
        let text = b"TcpExt: SyncookiesSent InOctets\nTcpExt: 1 99\n\
IpExt: InNoRoutes InTruncatedPkts InOctets OutOctets InNoECTPkts\n\
IpExt: 0 0 123456 654321 77\n";
        assert_eq!(parse_ip_octets(text), Some((123_456, 654_321)));
        assert_eq!(parse_ip_octets(b"IpExt: InOctets\nIpExt: 5\n"), None);
        assert_eq!(parse_ip_octets(b""), None);
    }

    #[test]
    fn page_size_is_found_in_the_auxiliary_vector() {
        let mut auxv = Vec::new();
        for (kind, value) in [(33usize, 0x7fffusize), (6, 16384), (0, 0)] {
            auxv.extend_from_slice(&kind.to_ne_bytes());
            auxv.extend_from_slice(&value.to_ne_bytes());
        }
        assert_eq!(parse_page_size(&auxv), Some(16384));
        assert_eq!(parse_page_size(&[]), None);
    }

    #[test]
    fn numbers_must_be_plain_digits() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
    }
}
