//! Differential test: the hand-written `longdouble` against `ld80`
//! (rustc_apfloat underneath) for parse, add, is_finite and
//! to_human_string. Run with e.g. `PROPTEST_CASES=100000`.

use proptest::prelude::*;

use super::{ld80, longdouble};

type Old = longdouble::LongDouble;
type New = ld80::LongDouble;

fn show(s: &[u8]) -> String {
    let t = String::from_utf8_lossy(s);
    if t.len() > 80 {
        format!("{}…({} bytes)", &t[..60], s.len())
    } else {
        format!("{t:?}")
    }
}

fn agree(what: &str, old: Option<Old>, new: Option<New>) -> Result<(), TestCaseError> {
    match (old, new) {
        (None, None) => {}
        (Some(o), Some(n)) => {
            prop_assert_eq!(o.key(), n.key(), "value of {}", what);
            prop_assert_eq!(o.is_finite(), n.is_finite(), "is_finite of {}", what);
            prop_assert_eq!(
                o.to_human_string(),
                n.to_human_string(),
                "to_human_string of {}",
                what
            );
        }
        (o, n) => prop_assert!(false, "{}: old {:?}, new {:?}", what, o, n),
    }
    Ok(())
}

fn check_parse(s: &[u8]) -> Result<(), TestCaseError> {
    agree(&show(s), Old::parse(s), New::parse(s))
}

fn check_sum(a: &[u8], b: &[u8]) -> Result<(), TestCaseError> {
    let parsed = |s: &[u8]| {
        let pair = (Old::parse(s), New::parse(s));
        agree(&show(s), pair.0, pair.1).map(|()| pair)
    };
    let (a, b) = ((a, parsed(a)?), (b, parsed(b)?));
    check_parsed_sum(a, b)
}

type Parsed<'a> = (&'a [u8], (Option<Old>, Option<New>));

fn check_parsed_sum(a: Parsed, b: Parsed) -> Result<(), TestCaseError> {
    let old = a.1 .0.zip(b.1 .0).map(|(x, y)| x.add(y));
    let new = a.1 .1.zip(b.1 .1).map(|(x, y)| x.add(y));
    agree(&format!("{} + {}", show(a.0), show(b.0)), old, new)
}

fn edge_cases() -> Vec<Vec<u8>> {
    let fixed: &[&str] = &[
        "0",
        "-0",
        "+0",
        "0.0",
        "-0.0",
        "00000",
        "1",
        "+1",
        "-1",
        " 1",
        "1 ",
        "\t1",
        "\n1",
        "1\n",
        "0x1p3",
        "0X1P3",
        "0x1",
        "-0x1",
        "0x",
        "0x.",
        "0x.p1",
        "0x1p",
        "0x1p+",
        "0x1P-",
        "0xg",
        "0x.8",
        "0x1.",
        "",
        "1e",
        "1e+",
        "1e-",
        "e5",
        ".e5",
        "1e5000",
        "-1e5000",
        "1e-5000",
        "4e-4951",
        "3e-4951",
        "1e-4951",
        "1.8e-4951",
        "1.83e-4951",
        "1.82e-4951",
        "1.18973149535723176502e4932",
        "1.18973149535723176509e4932",
        "1.18973149535723176505e4932",
        "1.189731495357231765e4932",
        ".5",
        "5.",
        ".",
        "-",
        "+",
        "+-1",
        "-+1",
        "--1",
        "1.2.3",
        "inf",
        "-inf",
        "+inf",
        "INF",
        "Inf",
        "Infinity",
        "-infinity",
        "INFINITY",
        "infinit",
        "infx",
        "in",
        "nan",
        "-nan",
        "NaN",
        "nan(1)",
        "snan",
        "1e17",
        "1e-17",
        "5e-18",
        "-5e-18",
        "6e-18",
        "-6e-18",
        "15e-18",
        "25e-18",
        "99999999999999999",
        "100000000000000000",
        "0.00000000000000001",
        "0.000000000000000005",
        "0.000000000000000015",
        "0.000000000000000025",
        "0x1p-16445",
        "-0x1p-16445",
        "0x1p-16446",
        "0x1.8p-16446",
        "0x1.00001p-16446",
        "0x1p-16382",
        "0x0.fffffffffffffffep-16382",
        "0x1p16383",
        "0x1p16384",
        "0x1.fffffffffffffffep16383",
        "0x1.ffffffffffffffffp16383",
        "0x1.fffffffffffffffe8p16383",
        "0x1.fffffffffffffffe7p16383",
        "0x1.ffffffffffffffffp0",
        "0x1.fffffffffffffffdp0",
        "3.3621031431120935063e-4932",
        "1\0",
        "\0",
        "0x1p3\0",
        "1,5",
        "1_0",
        "0b1",
        "0o7",
        "1e+0",
        "1E0",
        "0e999999999999999999999",
        "1e-99999999999999999999",
        "1e99999999999999999999",
        "0x1p99999999999999999999",
        "0x1p-99999999999999999999",
        "0x0p99999999999999999999",
        "100000.1",
        "10.5",
        "0.1",
        "5.0e3",
        "2.0e2",
        "1e308",
        "1.7976931348623157e308",
        "4.9406564584124654e-324",
        "2.2250738585072014e-308",
        "9223372036854775807",
        "18446744073709551615",
        "18446744073709551616",
        "-98765.4321",
        "3.14159265358979323846264338327950288419716939937510",
        "0.99999999999999999999",
        "0.999999999999999994",
        "0.000003814697265625",
        "0.000011444091796875",
        "123456789012345678901234567890123456789012345678901234567890",
    ];
    let mut v: Vec<Vec<u8>> = fixed.iter().map(|s| s.as_bytes().to_vec()).collect();
    let long = [
        "1.".to_string() + &"0".repeat(5117),
        "1.".to_string() + &"0".repeat(5118),
        "0".repeat(5116) + "1.5",
        "0.".to_string() + &"0".repeat(4940) + &"1".repeat(177),
        "1".repeat(5110) + "e-10050",
        "-".to_string() + &"1".repeat(5110) + "e-10060",
        "9".repeat(4932) + "." + &"9".repeat(186),
        "0.".to_string() + &"3".repeat(5117),
        "7".repeat(4933),
        "1".repeat(4932),
        "0x".to_string() + &"f".repeat(4000) + "p-16000",
        "0x0.".to_string() + &"0".repeat(4000) + "1p0",
    ];
    v.extend(long.into_iter().map(String::into_bytes));
    v
}

/// Strings that are mostly valid numbers, over all magnitudes and syntaxes.
fn number() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        // Short decimals in every syntax strtold knows.
        "[+-]?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][+-]?[0-9]{1,4})?",
        // Many digits.
        "[+-]?[0-9]{1,300}(\\.[0-9]{0,300})?([eE][+-]?[0-9]{1,4})?",
        // Any magnitude up to and past both ends of the range.
        ("[+-]?[1-9][0-9]{0,25}", -4990i32..4960).prop_map(|(m, e)| format!("{m}e{e}")),
        // Around 1e17 and 1e-17, where %.17Lf starts and stops showing digits.
        ("[+-]?[0-9]{1,21}", -45i32..25).prop_map(|(m, e)| format!("{m}e{e}")),
        ("[+-]?[0-9]{0,20}\\.[0-9]{0,20}", -20i32..20).prop_map(|(m, e)| format!("{m}e{e}")),
        // f64 values printed the usual ways.
        any::<u64>().prop_flat_map(|bits| {
            let f = f64::from_bits(bits);
            prop_oneof![
                Just(format!("{f:e}")),
                Just(format!("{f}")),
                Just(format!("{f:?}"))
            ]
        }),
        // Hex floats.
        "[+-]?0[xX][0-9a-fA-F]{0,20}(\\.[0-9a-fA-F]{0,20})?([pP][+-]?[0-9]{1,5})?",
        // Any long double (and a bit beyond both ends), exactly.
        (any::<bool>(), any::<u64>(), -16520i32..16400)
            .prop_map(|(neg, m, e)| format!("{}0x{m:x}p{e}", if neg { "-" } else { "" })),
        // Ties and near-ties of the 64-bit rounding: 65 to 68 significant bits.
        (any::<u64>(), 0u8..16, -16460i32..16400)
            .prop_map(|(m, t, e)| format!("0x{:x}.{t:x}p{e}", m | 1 << 63)),
    ]
    .prop_map(String::into_bytes)
    .boxed()
}

/// Anything, including junk and the edge cases.
fn input() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        4 => number(),
        1 => prop::sample::select(edge_cases()),
        1 => "[-+0-9.eExXpPinfINFatyn \\t]{0,12}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..12),
    ]
    .boxed()
}

/// Two long doubles close in magnitude, of either sign: cancellation, carries
/// and ties in the sum.
fn close_pair() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (
        any::<(bool, bool)>(),
        any::<u64>(),
        any::<u64>(),
        -16450i32..16390,
        -70i32..70,
    )
        .prop_map(|((na, nb), ma, mb, e, d)| {
            let sign = |n: bool| if n { "-" } else { "" };
            (
                format!("{}0x{ma:x}p{e}", sign(na)).into_bytes(),
                format!("{}0x{mb:x}p{}", sign(nb), e + d).into_bytes(),
            )
        })
}

#[test]
fn edge_cases_agree() {
    let edges = edge_cases();
    let parsed: Vec<Parsed> = edges
        .iter()
        .map(|s| {
            let pair = (Old::parse(s), New::parse(s));
            agree(&show(s), pair.0, pair.1).unwrap();
            (s.as_slice(), pair)
        })
        .collect();
    for &a in &parsed {
        for &b in &parsed {
            check_parsed_sum(a, b).unwrap();
        }
    }
}

proptest! {
    #[test]
    fn parse_agrees(s in input()) {
        check_parse(&s)?;
    }

    #[test]
    fn sum_agrees(a in input(), b in number()) {
        check_sum(&a, &b)?;
    }

    #[test]
    fn close_sum_agrees((a, b) in close_pair()) {
        check_sum(&a, &b)?;
    }

    #[test]
    fn decimal_sum_agrees(a in "[+-]?[0-9]{1,20}(\\.[0-9]{1,20})?", b in "[+-]?[0-9]{1,20}(\\.[0-9]{1,20})?") {
        check_sum(a.as_bytes(), b.as_bytes())?;
    }
}
