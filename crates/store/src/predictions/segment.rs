//! The body of a prediction log segment: the records one writer's batch holds for one
//! (model, version, role), in one binary value. Storing a batch as one row, rather than a
//! row per record, is what makes the log cheap to append to: SQLite's work per row (the
//! B-tree insert, its index entries, the page writes at commit) was most of the writer's
//! 6.7 µs per record (docs/benchmarks.md).
//!
//! Layout, little-endian, lengths as `u32`:
//!
//! ```text
//! body    = FORMAT:u8 n:u32 record*n
//! record  = request_id:str time:i64 latency_micros:i64 flags:u8 [error:str]
//!           inputs:tensors outputs:tensors
//! flags   = 1 (has an error) | 2 (agrees_with_live is known) | 4 (it agrees)
//! tensors = count:u32 (name:str datatype:u8 rank:u32 dim:u64*rank elements:u32 data)*count
//! data    = numbers as their bytes; BOOL one byte each; BYTES a str each
//! str     = len:u32 utf8
//! ```
//!
//! Reading checks every length against the bytes left, so a damaged body is refused, never
//! a panic or an allocation of whatever size it claims.

use bascule_core::{PredictionRecord, Role, Tensor, TensorData};

const FORMAT: u8 = 1;

const HAS_ERROR: u8 = 1;
const AGREEMENT_KNOWN: u8 = 2;
const AGREES: u8 = 4;

/// Datatype codes: the stored form's own, independent of the enum's order.
const BOOL: u8 = 1;
const INT32: u8 = 2;
const INT64: u8 = 3;
const FP32: u8 = 4;
const FP64: u8 = 5;
const BYTES: u8 = 6;

/// One record of a segment: its fields without those the segment row holds (the model,
/// version and role, and the id, which is the segment's first id plus the record's index).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SegmentRecord {
    pub request_id: String,
    pub time: i64,
    pub latency_micros: i64,
    pub inputs: Vec<Tensor>,
    pub outputs: Vec<Tensor>,
    pub error: Option<String>,
    pub agrees_with_live: Option<bool>,
}

impl SegmentRecord {
    pub(crate) fn into_record(self, name: &str, version: i64, role: Role) -> PredictionRecord {
        PredictionRecord {
            request_id: self.request_id,
            name: name.to_owned(),
            version,
            role,
            time: self.time,
            latency_micros: self.latency_micros,
            inputs: self.inputs,
            outputs: self.outputs,
            error: self.error,
            agrees_with_live: self.agrees_with_live,
        }
    }
}

/// The body of a segment holding `records`, in order.
pub(crate) fn encode<'a>(records: impl ExactSizeIterator<Item = &'a PredictionRecord>) -> Vec<u8> {
    let mut body = Vec::with_capacity(5 + records.len() * 256);
    body.push(FORMAT);
    put_len(&mut body, records.len());
    for record in records {
        put_str(&mut body, &record.request_id);
        body.extend_from_slice(&record.time.to_le_bytes());
        body.extend_from_slice(&record.latency_micros.to_le_bytes());
        let mut flags = 0;
        if record.error.is_some() {
            flags |= HAS_ERROR;
        }
        if let Some(agrees) = record.agrees_with_live {
            flags |= AGREEMENT_KNOWN | if agrees { AGREES } else { 0 };
        }
        body.push(flags);
        if let Some(error) = &record.error {
            put_str(&mut body, error);
        }
        put_tensors(&mut body, &record.inputs);
        put_tensors(&mut body, &record.outputs);
    }
    body
}

/// The records of a body, in order; `None` if it is not a whole, well-formed body.
pub(crate) fn decode(body: &[u8]) -> Option<Vec<SegmentRecord>> {
    let mut reader = Reader { bytes: body };
    if reader.u8()? != FORMAT {
        return None;
    }
    let n = reader.len()?;
    // Each record takes at least 29 bytes: never reserve more than the body could hold.
    let mut records = Vec::with_capacity(n.min(reader.bytes.len() / 29));
    for _ in 0..n {
        let request_id = reader.str()?;
        let time = reader.i64()?;
        let latency_micros = reader.i64()?;
        let flags = reader.u8()?;
        if flags & !(HAS_ERROR | AGREEMENT_KNOWN | AGREES) != 0 {
            return None;
        }
        let error = if flags & HAS_ERROR != 0 {
            Some(reader.str()?)
        } else {
            None
        };
        let agrees_with_live = (flags & AGREEMENT_KNOWN != 0).then_some(flags & AGREES != 0);
        records.push(SegmentRecord {
            request_id,
            time,
            latency_micros,
            inputs: reader.tensors()?,
            outputs: reader.tensors()?,
            error,
            agrees_with_live,
        });
    }
    reader.bytes.is_empty().then_some(records)
}

fn put_len(body: &mut Vec<u8>, len: usize) {
    // Tensors and strings this large are refused long before the log (the body limit).
    body.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(body: &mut Vec<u8>, text: &str) {
    put_len(body, text.len());
    body.extend_from_slice(text.as_bytes());
}

fn put_tensors(body: &mut Vec<u8>, tensors: &[Tensor]) {
    put_len(body, tensors.len());
    for tensor in tensors {
        put_str(body, &tensor.name);
        let code = match &tensor.data {
            TensorData::Bool(_) => BOOL,
            TensorData::Int32(_) => INT32,
            TensorData::Int64(_) => INT64,
            TensorData::Fp32(_) => FP32,
            TensorData::Fp64(_) => FP64,
            TensorData::Bytes(_) => BYTES,
        };
        body.push(code);
        put_len(body, tensor.shape.len());
        for dim in &tensor.shape {
            body.extend_from_slice(&(*dim as u64).to_le_bytes());
        }
        put_len(body, tensor.data.len());
        match &tensor.data {
            TensorData::Bool(values) => body.extend(values.iter().map(|v| u8::from(*v))),
            TensorData::Int32(values) => put_numbers(body, values, i32::to_le_bytes),
            TensorData::Int64(values) => put_numbers(body, values, i64::to_le_bytes),
            TensorData::Fp32(values) => put_numbers(body, values, f32::to_le_bytes),
            TensorData::Fp64(values) => put_numbers(body, values, f64::to_le_bytes),
            TensorData::Bytes(values) => values.iter().for_each(|value| put_str(body, value)),
        }
    }
}

/// Generic over the conversion (not a `fn` pointer) so that it inlines into one loop.
fn put_numbers<T: Copy, const N: usize>(
    body: &mut Vec<u8>,
    values: &[T],
    to: impl Fn(T) -> [u8; N],
) {
    body.reserve(values.len() * N);
    for value in values {
        body.extend_from_slice(&to(*value));
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(taken)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(u32::from_le_bytes(self.array()?)).ok()
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.array()?))
    }

    fn str(&mut self) -> Option<String> {
        let len = self.len()?;
        let bytes = self.take(len)?;
        Some(std::str::from_utf8(bytes).ok()?.to_owned())
    }

    fn tensors(&mut self) -> Option<Vec<Tensor>> {
        let count = self.len()?;
        // A tensor takes at least 13 bytes.
        let mut tensors = Vec::with_capacity(count.min(self.bytes.len() / 13));
        for _ in 0..count {
            let name = self.str()?;
            let code = self.u8()?;
            let rank = self.len()?;
            let dims = self.take(rank.checked_mul(8)?)?;
            let shape = dims
                .chunks_exact(8)
                .map(|dim| usize::try_from(u64::from_le_bytes(dim.try_into().ok()?)).ok())
                .collect::<Option<Vec<usize>>>()?;
            let elements = self.len()?;
            let data = match code {
                BOOL => TensorData::Bool(
                    self.take(elements)?
                        .iter()
                        .map(|byte| match byte {
                            0 => Some(false),
                            1 => Some(true),
                            _ => None,
                        })
                        .collect::<Option<_>>()?,
                ),
                INT32 => TensorData::Int32(self.numbers(elements, i32::from_le_bytes)?),
                INT64 => TensorData::Int64(self.numbers(elements, i64::from_le_bytes)?),
                FP32 => TensorData::Fp32(self.numbers(elements, f32::from_le_bytes)?),
                FP64 => TensorData::Fp64(self.numbers(elements, f64::from_le_bytes)?),
                BYTES => {
                    // A string takes at least 4 bytes.
                    let mut values = Vec::with_capacity(elements.min(self.bytes.len() / 4));
                    for _ in 0..elements {
                        values.push(self.str()?);
                    }
                    TensorData::Bytes(values)
                }
                _ => return None,
            };
            tensors.push(Tensor { name, shape, data });
        }
        Some(tensors)
    }

    fn numbers<T, const N: usize>(&mut self, n: usize, from: fn([u8; N]) -> T) -> Option<Vec<T>> {
        let bytes = self.take(n.checked_mul(N)?)?;
        bytes
            .chunks_exact(N)
            .map(|chunk| chunk.try_into().ok().map(from))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::encoding::tests::{every_datatype, tensor};
    use super::*;

    fn record(request_id: &str, inputs: Vec<Tensor>) -> PredictionRecord {
        PredictionRecord {
            request_id: request_id.to_owned(),
            name: "m".to_owned(),
            version: 3,
            role: Role::Shadow,
            time: 1_700_000_000_123,
            latency_micros: 41,
            inputs,
            outputs: vec![tensor("label", vec![1], TensorData::Int64(vec![i64::MIN]))],
            error: None,
            agrees_with_live: None,
        }
    }

    fn records() -> Vec<PredictionRecord> {
        let mut failed = record("b", vec![]);
        failed.error = Some("the model failed: ✗".to_owned());
        failed.outputs = vec![];
        let mut agrees = record("c", every_datatype());
        agrees.agrees_with_live = Some(true);
        let mut differs = record("", every_datatype());
        differs.agrees_with_live = Some(false);
        differs.latency_micros = -1;
        vec![record("a", every_datatype()), failed, agrees, differs]
    }

    #[test]
    fn every_field_and_datatype_round_trips_exactly() {
        let records = records();
        let decoded = decode(&encode(records.iter())).unwrap();
        let restored: Vec<PredictionRecord> = decoded
            .into_iter()
            .map(|r| r.into_record("m", 3, Role::Shadow))
            .collect();
        assert_eq!(restored, records);
        assert_eq!(decode(&encode([].iter())).unwrap(), vec![]);
    }

    #[test]
    fn non_finite_floats_survive() {
        let records = [record(
            "a",
            vec![tensor(
                "p",
                vec![3],
                TensorData::Fp32(vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY]),
            )],
        )];
        let decoded = decode(&encode(records.iter())).unwrap();
        let TensorData::Fp32(values) = &decoded[0].inputs[0].data else {
            panic!("not FP32: {decoded:?}")
        };
        assert!(values[0].is_nan());
        assert_eq!(values[1..], [f32::INFINITY, f32::NEG_INFINITY]);
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        let records = [PredictionRecord {
            inputs: vec![tensor("p", vec![1], TensorData::Fp32(vec![1.0]))],
            outputs: vec![],
            agrees_with_live: Some(true),
            ..record("r", vec![])
        }];
        let mut expected = vec![FORMAT, 1, 0, 0, 0];
        expected.extend([1, 0, 0, 0, b'r']);
        expected.extend(1_700_000_000_123_i64.to_le_bytes());
        expected.extend(41_i64.to_le_bytes());
        expected.push(AGREEMENT_KNOWN | AGREES);
        expected.extend([1, 0, 0, 0]); // one input
        expected.extend([1, 0, 0, 0, b'p', FP32, 1, 0, 0, 0]);
        expected.extend(1_u64.to_le_bytes());
        expected.extend([1, 0, 0, 0]);
        expected.extend(1.0_f32.to_le_bytes());
        expected.extend([0, 0, 0, 0]); // no outputs
        assert_eq!(encode(records.iter()), expected);
    }

    #[test]
    fn damaged_bodies_are_refused() {
        let body = encode(records().iter());
        // Every proper prefix is refused: a length runs past the end, or records are missing.
        for end in 0..body.len() {
            assert_eq!(decode(&body[..end]), None, "prefix of {end} bytes");
        }
        let mut trailing = body.clone();
        trailing.push(0);
        assert_eq!(decode(&trailing), None, "trailing bytes");
        let mut format = body.clone();
        format[0] = 2;
        assert_eq!(decode(&format), None, "unknown format");
        // A count claiming four billion records allocates nothing and fails.
        assert_eq!(decode(&[FORMAT, 255, 255, 255, 255]), None);
        let one = encode([record("r", vec![])].iter());
        let flags_at = 5 + 5 + 16;
        let mut flags = one.clone();
        flags[flags_at] = 8;
        assert_eq!(decode(&flags), None, "unknown flag");
        let mut utf8 = one.clone();
        utf8[9] = 0xff;
        assert_eq!(decode(&utf8), None, "request id not UTF-8");
        let mut bool_body = encode(
            [record(
                "r",
                vec![tensor("b", vec![1], TensorData::Bool(vec![true]))],
            )]
            .iter(),
        );
        // Header, request id, times, flags, one input named "b", BOOL, rank 1, a dim, a count.
        let bool_at = 5 + 5 + 16 + 1 + 4 + 5 + 1 + 4 + 8 + 4;
        assert_eq!(bool_body[bool_at], 1);
        bool_body[bool_at] = 2;
        assert_eq!(decode(&bool_body), None, "a BOOL that is neither 0 nor 1");
        let mut code = one;
        // Flags, no inputs, one output named "label", then its datatype.
        let code_at = flags_at + 1 + 4 + 4 + 4 + 5;
        assert_eq!(code[code_at], INT64);
        code[code_at] = 9;
        assert_eq!(decode(&code), None, "unknown datatype");
    }
}
