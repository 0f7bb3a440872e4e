//! Compile-time behaviour of the derives: each mistake gives one clear error on the code at
//! fault (`ui/fail`, one file per mistake), and every supported shape compiles (`ui/pass`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
