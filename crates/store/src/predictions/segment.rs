//! The body of a prediction log segment: the records one writer's batch holds for one
//! (model, version, role), in one binary value. Storing a batch as one row, rather than a
//! row per record, is what makes the log cheap to append to: SQLite's work per row (the
//! B-tree insert, its index entries, the page writes at commit) was most of the writer's
//! 6.7 µs per record (docs/benchmarks.md).
//!
//! Layout, little-endian, lengths as `u32` (format 2; format 1, written before, is still
//! read):
//!
//! ```text
//! body    = FORMAT:u8 n:u32 record*n
//! record  = flags:u8 [request_id:str] time:i64 latency_micros:i64 [error:str]
//!           (inputs:tensors outputs:tensors | inputs:data* outputs:data*)
//! flags   = 1 (has an error) | 2 (agrees_with_live is known) | 4 (it agrees)
//!         | 8 (the request id is the previous record's with the counter plus one: no
//!           request_id; see `bascule_core::generated_request_id`)
//!         | 16 (the tensors have the previous record's names, datatypes, shapes and
//!           element counts: only each one's data, in order)
//! tensors = count:u32 (name:str datatype:u8 rank:u32 dim:u64*rank elements:u32 data)*count
//! data    = numbers as their bytes; BOOL one byte each; BYTES a str each
//! str     = len:u32 utf8
//! format 1: record = request_id:str time:i64 latency_micros:i64 flags:u8 [error:str]
//!           inputs:tensors outputs:tensors   (flags 1, 2, 4 only)
//! ```
//!
//! A segment's records are mostly requests in arrival order to one model, so flags 8 and
//! 16 leave a record its times and its numbers: half the bytes of format 1 for the
//! breast-cancer fixture (the bytes are written twice, to SQLite's WAL and at checkpoint).
//!
//! Reading checks every length against the bytes left, so a damaged body is refused, never
//! a panic or an allocation of whatever size it claims.

use bascule_core::{
    PredictionRecord, Role, Tensor, TensorData, generated_request_id, parse_generated_request_id,
};

const FORMAT: u8 = 2;
const FORMAT_1: u8 = 1;

const HAS_ERROR: u8 = 1;
const AGREEMENT_KNOWN: u8 = 2;
const AGREES: u8 = 4;
const NEXT_ID: u8 = 8;
const SAME_LAYOUT: u8 = 16;

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

/// [`encode_parsed`], parsing the ids.
#[cfg(test)]
pub(crate) fn encode<'a>(records: impl ExactSizeIterator<Item = &'a PredictionRecord>) -> Vec<u8> {
    encode_parsed(records.map(parsed))
}

/// A record and its request id parsed (`Some((prefix, counter))` for a generated id): the
/// writer parses each id once, and orders, indexes and encodes a segment with it.
pub(crate) type Parsed<'a> = (&'a PredictionRecord, Option<(&'a str, i64)>);

pub(crate) fn parsed(record: &PredictionRecord) -> Parsed<'_> {
    (record, parse_generated_request_id(&record.request_id))
}

/// The body of a segment holding `records` (their ids parsed), in order.
pub(crate) fn encode_parsed<'a>(records: impl ExactSizeIterator<Item = Parsed<'a>>) -> Vec<u8> {
    let mut body = Vec::with_capacity(5 + records.len() * 160);
    body.push(FORMAT);
    put_len(&mut body, records.len());
    let mut previous: Option<&PredictionRecord> = None;
    let mut previous_id = None;
    for (record, id) in records {
        let mut flags = 0;
        if record.error.is_some() {
            flags |= HAS_ERROR;
        }
        if let Some(agrees) = record.agrees_with_live {
            flags |= AGREEMENT_KNOWN | if agrees { AGREES } else { 0 };
        }
        if follows(previous_id, id) {
            flags |= NEXT_ID;
        }
        previous_id = id;
        if previous.is_some_and(|previous| {
            same_layout(&previous.inputs, &record.inputs)
                && same_layout(&previous.outputs, &record.outputs)
        }) {
            flags |= SAME_LAYOUT;
        }
        body.push(flags);
        if flags & NEXT_ID == 0 {
            put_str(&mut body, &record.request_id);
        }
        body.extend_from_slice(&record.time.to_le_bytes());
        body.extend_from_slice(&record.latency_micros.to_le_bytes());
        if let Some(error) = &record.error {
            put_str(&mut body, error);
        }
        if flags & SAME_LAYOUT == 0 {
            put_tensors(&mut body, &record.inputs);
            put_tensors(&mut body, &record.outputs);
        } else {
            for tensor in record.inputs.iter().chain(&record.outputs) {
                put_data(&mut body, &tensor.data);
            }
        }
        previous = Some(record);
    }
    body
}

/// Whether `id` is `previous` with the counter plus one (both generated ids, parsed).
fn follows(previous: Option<(&str, i64)>, id: Option<(&str, i64)>) -> bool {
    match (previous, id) {
        (Some((before, counter)), Some((prefix, next))) => {
            before == prefix && counter.checked_add(1) == Some(next)
        }
        _ => false,
    }
}

/// Whether two lists of tensors have the same names, datatypes, shapes and element counts.
fn same_layout(before: &[Tensor], tensors: &[Tensor]) -> bool {
    before.len() == tensors.len()
        && before.iter().zip(tensors).all(|(a, b)| {
            a.name == b.name
                && datatype(&a.data) == datatype(&b.data)
                && a.shape == b.shape
                && a.data.len() == b.data.len()
        })
}

/// The records of a body, in order; `None` if it is not a whole, well-formed body.
pub(crate) fn decode(body: &[u8]) -> Option<Vec<SegmentRecord>> {
    let mut reader = Reader { bytes: body };
    let format = reader.u8()?;
    if format != FORMAT && format != FORMAT_1 {
        return None;
    }
    let n = reader.len()?;
    // Each record takes at least 17 bytes: never reserve more than the body could hold.
    let mut records: Vec<SegmentRecord> = Vec::with_capacity(n.min(reader.bytes.len() / 17));
    for _ in 0..n {
        let record = if format == FORMAT {
            reader.record(records.last())?
        } else {
            reader.record_1()?
        };
        records.push(record);
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

fn datatype(data: &TensorData) -> u8 {
    match data {
        TensorData::Bool(_) => BOOL,
        TensorData::Int32(_) => INT32,
        TensorData::Int64(_) => INT64,
        TensorData::Fp32(_) => FP32,
        TensorData::Fp64(_) => FP64,
        TensorData::Bytes(_) => BYTES,
    }
}

fn put_tensors(body: &mut Vec<u8>, tensors: &[Tensor]) {
    put_len(body, tensors.len());
    for tensor in tensors {
        put_str(body, &tensor.name);
        body.push(datatype(&tensor.data));
        put_len(body, tensor.shape.len());
        for dim in &tensor.shape {
            body.extend_from_slice(&(*dim as u64).to_le_bytes());
        }
        put_len(body, tensor.data.len());
        put_data(body, &tensor.data);
    }
}

fn put_data(body: &mut Vec<u8>, data: &TensorData) {
    match data {
        TensorData::Bool(values) => body.extend(values.iter().map(|v| u8::from(*v))),
        TensorData::Int32(values) => put_numbers(body, values, i32::to_le_bytes),
        TensorData::Int64(values) => put_numbers(body, values, i64::to_le_bytes),
        TensorData::Fp32(values) => put_numbers(body, values, f32::to_le_bytes),
        TensorData::Fp64(values) => put_numbers(body, values, f64::to_le_bytes),
        TensorData::Bytes(values) => values.iter().for_each(|value| put_str(body, value)),
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

fn agreement(flags: u8) -> Option<bool> {
    (flags & AGREEMENT_KNOWN != 0).then_some(flags & AGREES != 0)
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

    /// A record of format 2, after `previous` (the body's record before it, if any).
    fn record(&mut self, previous: Option<&SegmentRecord>) -> Option<SegmentRecord> {
        let flags = self.u8()?;
        let known = HAS_ERROR | AGREEMENT_KNOWN | AGREES | NEXT_ID | SAME_LAYOUT;
        if flags & !known != 0 {
            return None;
        }
        let request_id = if flags & NEXT_ID != 0 {
            let (prefix, counter) = parse_generated_request_id(&previous?.request_id)?;
            generated_request_id(prefix, u64::try_from(counter.checked_add(1)?).ok()?)
        } else {
            self.str()?
        };
        let time = self.i64()?;
        let latency_micros = self.i64()?;
        let error = self.error(flags)?;
        let (inputs, outputs) = if flags & SAME_LAYOUT != 0 {
            let previous = previous?;
            (self.like(&previous.inputs)?, self.like(&previous.outputs)?)
        } else {
            (self.tensors()?, self.tensors()?)
        };
        Some(SegmentRecord {
            request_id,
            time,
            latency_micros,
            inputs,
            outputs,
            error,
            agrees_with_live: agreement(flags),
        })
    }

    /// A record of format 1.
    fn record_1(&mut self) -> Option<SegmentRecord> {
        let request_id = self.str()?;
        let time = self.i64()?;
        let latency_micros = self.i64()?;
        let flags = self.u8()?;
        if flags & !(HAS_ERROR | AGREEMENT_KNOWN | AGREES) != 0 {
            return None;
        }
        let error = self.error(flags)?;
        Some(SegmentRecord {
            request_id,
            time,
            latency_micros,
            inputs: self.tensors()?,
            outputs: self.tensors()?,
            error,
            agrees_with_live: agreement(flags),
        })
    }

    /// The error when the flags say there is one (`Some(None)` when there is none).
    fn error(&mut self, flags: u8) -> Option<Option<String>> {
        if flags & HAS_ERROR != 0 {
            Some(Some(self.str()?))
        } else {
            Some(None)
        }
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
            let data = self.data(code, elements)?;
            tensors.push(Tensor { name, shape, data });
        }
        Some(tensors)
    }

    /// Tensors laid out as `layout` (names, datatypes, shapes, element counts): their data.
    fn like(&mut self, layout: &[Tensor]) -> Option<Vec<Tensor>> {
        layout
            .iter()
            .map(|tensor| {
                Some(Tensor {
                    name: tensor.name.clone(),
                    shape: tensor.shape.clone(),
                    data: self.data(datatype(&tensor.data), tensor.data.len())?,
                })
            })
            .collect()
    }

    fn data(&mut self, code: u8, elements: usize) -> Option<TensorData> {
        Some(match code {
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
        })
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

    /// The records of `body`, as the store hands them out.
    fn restored(body: &[u8]) -> Vec<PredictionRecord> {
        decode(body)
            .unwrap()
            .into_iter()
            .map(|r| r.into_record("m", 3, Role::Shadow))
            .collect()
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
        assert_eq!(restored(&encode(records.iter())), records);
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
        let first = PredictionRecord {
            request_id: generated_request_id("00000000000a", 7),
            inputs: vec![tensor("p", vec![1], TensorData::Fp32(vec![1.0]))],
            outputs: vec![],
            agrees_with_live: Some(true),
            ..record("", vec![])
        };
        let mut second = first.clone();
        second.request_id = generated_request_id("00000000000a", 8);
        second.inputs = vec![tensor("p", vec![1], TensorData::Fp32(vec![2.0]))];
        second.time += 1;
        let mut expected = vec![FORMAT, 2, 0, 0, 0];
        expected.push(AGREEMENT_KNOWN | AGREES);
        expected.extend([29, 0, 0, 0]);
        expected.extend(b"00000000000a-0000000000000007");
        expected.extend(1_700_000_000_123_i64.to_le_bytes());
        expected.extend(41_i64.to_le_bytes());
        expected.extend(one_input_p_no_outputs());
        // The next request's id and the same tensors' layout: times and numbers only.
        expected.push(AGREEMENT_KNOWN | AGREES | NEXT_ID | SAME_LAYOUT);
        expected.extend(1_700_000_000_124_i64.to_le_bytes());
        expected.extend(41_i64.to_le_bytes());
        expected.extend(2.0_f32.to_le_bytes());
        let records = [first, second];
        assert_eq!(encode(records.iter()), expected);
        let decoded = restored(&expected);
        assert_eq!(decoded, records);
    }

    #[test]
    fn a_stream_of_one_models_requests_keeps_only_times_and_numbers() {
        let breast_cancer = |counter: u64| PredictionRecord {
            request_id: generated_request_id("3f9a1c07d2e4", counter),
            inputs: vec![tensor(
                "input",
                vec![1, 30],
                TensorData::Fp32((0..30).map(|i| (counter + i) as f32).collect()),
            )],
            outputs: vec![
                tensor(
                    "label",
                    vec![1],
                    TensorData::Int64(vec![counter as i64 % 2]),
                ),
                tensor(
                    "probabilities",
                    vec![1, 2],
                    TensorData::Fp32(vec![0.25, 0.75]),
                ),
            ],
            ..record("", vec![])
        };
        // A gap in the counters, a caller's id, a failed request: each written in full.
        let mut records: Vec<PredictionRecord> = (0..10).map(breast_cancer).collect();
        records[4] = breast_cancer(40);
        records[6].request_id = "caller".to_owned();
        records[8].error = Some("the model failed".to_owned());
        records[8].outputs = vec![];
        let body = encode(records.iter());
        let decoded = restored(&body);
        assert_eq!(decoded, records);
        // flags, two times, 30 + 2 FP32 and an INT64: 153 bytes where format 1 took 296.
        let compact = 1 + 16 + 30 * 4 + 8 + 2 * 4;
        let mut tail = records[..2].to_vec();
        tail.push(breast_cancer(2));
        let one = encode(tail[..1].iter()).len();
        assert_eq!(encode(tail[..2].iter()).len(), one + compact);
        assert_eq!(encode(tail.iter()).len(), one + 2 * compact);
    }

    /// The tensors of a record with one input, `p` = FP32 [1.0] of shape [1], and no
    /// outputs, as both formats write them.
    fn one_input_p_no_outputs() -> Vec<u8> {
        let mut bytes = vec![1, 0, 0, 0]; // one input
        bytes.extend([1, 0, 0, 0, b'p', FP32, 1, 0, 0, 0]);
        bytes.extend(1_u64.to_le_bytes());
        bytes.extend([1, 0, 0, 0]);
        bytes.extend(1.0_f32.to_le_bytes());
        bytes.extend([0, 0, 0, 0]); // no outputs
        bytes
    }

    #[test]
    fn bodies_of_format_1_are_still_read() {
        let mut body = vec![FORMAT_1, 1, 0, 0, 0];
        body.extend([1, 0, 0, 0, b'r']);
        body.extend(1_700_000_000_123_i64.to_le_bytes());
        body.extend(41_i64.to_le_bytes());
        body.push(AGREEMENT_KNOWN | AGREES);
        body.extend(one_input_p_no_outputs());
        let decoded = decode(&body).unwrap();
        assert_eq!(
            decoded[0].clone().into_record("m", 3, Role::Shadow),
            PredictionRecord {
                inputs: vec![tensor("p", vec![1], TensorData::Fp32(vec![1.0]))],
                outputs: vec![],
                agrees_with_live: Some(true),
                ..record("r", vec![])
            }
        );
        // Format 2's flags are not format 1's.
        let flags_at = 5 + 5 + 16;
        body[flags_at] |= NEXT_ID;
        assert_eq!(decode(&body), None);
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
        format[0] = 3;
        assert_eq!(decode(&format), None, "unknown format");
        // A count claiming four billion records allocates nothing and fails.
        assert_eq!(decode(&[FORMAT, 255, 255, 255, 255]), None);
        let one = encode([record("r", vec![])].iter());
        let flags_at = 5;
        for flag in [32, NEXT_ID, SAME_LAYOUT] {
            let mut flags = one.clone();
            flags[flags_at] |= flag;
            assert_eq!(
                decode(&flags),
                None,
                "flag {flag}: unknown, or no record before"
            );
        }
        let mut utf8 = one.clone();
        utf8[flags_at + 1 + 4] = 0xff;
        assert_eq!(decode(&utf8), None, "request id not UTF-8");
        let mut bool_body = encode(
            [record(
                "r",
                vec![tensor("b", vec![1], TensorData::Bool(vec![true]))],
            )]
            .iter(),
        );
        // Header, flags, request id, times, one input named "b", BOOL, rank 1, a dim, a count.
        let bool_at = 5 + 1 + 5 + 16 + 4 + 5 + 1 + 4 + 8 + 4;
        assert_eq!(bool_body[bool_at], 1);
        bool_body[bool_at] = 2;
        assert_eq!(decode(&bool_body), None, "a BOOL that is neither 0 nor 1");
        let mut code = one;
        // Flags, request id, times, no inputs, one output named "label", then its datatype.
        let code_at = flags_at + 1 + 5 + 16 + 4 + 4 + 9;
        assert_eq!(code[code_at], INT64);
        code[code_at] = 9;
        assert_eq!(decode(&code), None, "unknown datatype");
    }
}
