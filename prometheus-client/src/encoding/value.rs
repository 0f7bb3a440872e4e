//! A sample's value as a metric holds it: written as an integer or as a float.

/// A sample's value, as the metric holds it. (Public in a private module: the sealed
/// `NumberOps` trait returns it.)
#[derive(Clone, Copy, Debug)]
pub enum Value {
    /// An unsigned integer.
    U64(u64),
    /// A signed integer.
    I64(i64),
    /// A float.
    F64(f64),
}
