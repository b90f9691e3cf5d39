/// The element types of the safetensors format. Floating-point tensors of type F32, F16 and BF16 are
/// read as Float; I64 and I32 as Int32 (ids, masks); the other types are recognised so that a file holding
/// them is still valid, but cannot be read as numbers.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }
}

/// IEEE half precision bits to Float (exact: every half is a float).
@inline(__always)
func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int32((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x03FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa × 2^-24.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
}

/// bfloat16 bits to Float: bfloat16 is the upper half of a float.
@inline(__always)
func floatFromBFloat16Bits(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}
