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

impl Value {
    /// The value as a float (integers beyond 2^53 rounded).
    #[cfg(feature = "protobuf")]
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Value::U64(v) => v as f64,
            Value::I64(v) => v as f64,
            Value::F64(v) => v,
        }
    }
}
