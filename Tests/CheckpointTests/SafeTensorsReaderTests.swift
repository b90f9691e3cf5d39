import Checkpoint
import Foundation
import TestSupport
import XCTest

final class SafeTensorsReaderTests: XCTestCase {
    /// A file written by Hugging Face's save_pretrained (safetensors' own writer).
    func testReadsHuggingFaceWrittenFile() throws {
        let file = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/tiny_qa_model/model.safetensors"))
        XCTAssertEqual(file.metadata["format"], "pt")
        let word = try file.info("bert.embeddings.word_embeddings.weight")
        XCTAssertEqual(word.dtype, .f32)
        XCTAssertEqual(word.shape, [64, 32])
        XCTAssertEqual(try file.info("qa_outputs.weight").shape, [2, 32])
        XCTAssertEqual(try file.info("bert.encoder.layer.1.intermediate.dense.weight").shape, [64, 32])
        let values = try file.floats("bert.embeddings.LayerNorm.weight")
        XCTAssertEqual(values.count, 32)
        // The fixture script sets LayerNorm weights to 1 + 0.1·N(0, 1).
        XCTAssertTrue(values.allSatisfy { abs($0 - 1) < 0.6 } && Set(values).count > 16, "\(values)")
    }

    /// F16 and BF16 are converted exactly as PyTorch's `.float()` does, including zeros, subnormals and
    /// infinities; I64 reads as Int32.
    func testConvertsHalfAndBFloat16LikePyTorch() throws {
        let file = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/dtypes.safetensors"))
        XCTAssertEqual(try file.info("f16").dtype, .f16)
        XCTAssertEqual(try file.info("bf16").dtype, .bf16)
        for (stored, expected) in [("f16", "f16_as_f32"), ("bf16", "bf16_as_f32")] {
            let converted = try file.floats(stored)
            let reference = try file.floats(expected)
            XCTAssertEqual(converted.count, 51)
            for (index, (a, b)) in zip(converted, reference).enumerated() {
                XCTAssertEqual(a.bitPattern, b.bitPattern, "\(stored)[\(index)]: \(a) vs PyTorch \(b)")
            }
        }
        XCTAssertEqual(try file.int32s("i64"), (-3..<9).map(Int32.init))
        XCTAssertEqual(try file.info("empty").shape, [0, 4])
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertThrowsError(try file.floats("i64")) { error in
            XCTAssertTrue("\(error)".contains("'i64'"), "\(error)")
        }
        XCTAssertThrowsError(try file.floats("nonexistent")) { error in
            XCTAssertEqual(error as? CheckpointError, .missingTensor(file: file.source, tensor: "nonexistent"))
        }
    }

    func testReadsRealMiniLMCheckpoint() throws {
        let url = TestPaths.miniLMDirectory.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(try file.info("embeddings.word_embeddings.weight").shape, [30522, 384])
        XCTAssertEqual(try file.info("embeddings.position_ids").dtype, .i64)
        XCTAssertEqual(try file.int32s("embeddings.position_ids"), (0..<512).map(Int32.init))
        XCTAssertEqual(file.tensors.count, 104)
    }

    // MARK: malformed files

    /// Builds a safetensors file from a header string and `dataBytes` bytes of data.
    private func file(header: String, dataBytes: Int, declaredLength: UInt64? = nil) -> Data {
        var data = Data()
        let headerData = Data(header.utf8)
        withUnsafeBytes(of: (declaredLength ?? UInt64(headerData.count)).littleEndian) { data.append(contentsOf: $0) }
        data.append(headerData)
        data.append(Data(repeating: 0, count: dataBytes))
        return data
    }

    private func assertMalformed(_ data: Data, mentions fragments: [String], line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile(data: data, source: "bad.safetensors"), line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("bad.safetensors"), message, line: line)
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "'\(message)' lacks '\(fragment)'", line: line)
            }
        }
    }

    func testRejectsTruncatedFiles() throws {
        assertMalformed(Data([1, 2, 3]), mentions: ["fewer than the 8-byte header length"])
        let good = file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 8)
        XCTAssertNoThrow(try SafeTensorsFile(data: good, source: "good"))
        // Cut into the data: the tensor's range now runs past the end.
        assertMalformed(good.prefix(good.count - 3), mentions: ["'a'", "run past"])
        // Cut into the header: the declared header length runs past the end.
        assertMalformed(good.prefix(20), mentions: ["header length", "past the end"])
    }

    /// Hostile sizes are refused before anything is allocated for them: a header length of 2⁶⁴−1, one past
    /// the format's 100 MB limit in a (sparse) file that really is that long, shapes whose product overflows.
    func testRefusesHugeClaimsWithoutAllocating() throws {
        var claim = Data(count: 8)
        claim.withUnsafeMutableBytes { $0.storeBytes(of: UInt64.max.littleEndian, as: UInt64.self) }
        assertMalformed(claim + Data("{}".utf8), mentions: ["header length 18446744073709551615", "past the end"])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("huge-header-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let length = SafeTensorsFile.maxHeaderBytes + 8
        var prefix = Data(count: 8)
        prefix.withUnsafeMutableBytes { $0.storeBytes(of: length.littleEndian, as: UInt64.self) }
        try prefix.write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: 8 + length)  // sparse: no disk blocks, mapped lazily
        try handle.close()
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: url)) { error in
            XCTAssertEqual("\(error)".contains("header length 100000008 exceeds the format's limit of 100000000 bytes"), true, "\(error)")
        }
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}"#, dataBytes: 4),
                        mentions: ["'w'", "too many"])
    }

    func testRejectsBadJSON() {
        assertMalformed(file(header: #"{"a":{"dtype":"F32","#, dataBytes: 0), mentions: ["not valid JSON"])
        assertMalformed(file(header: #"[1,2,3]"#, dataBytes: 0), mentions: ["not a JSON object"])
        assertMalformed(file(header: #"{"a":[1]}"#, dataBytes: 0), mentions: ["'a'", "not an object"])
        assertMalformed(file(header: #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4), mentions: ["'a'", "dtype"])
        assertMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1]}}"#, dataBytes: 4), mentions: ["'a'", "data_offsets"])
        assertMalformed(file(header: #"{"__metadata__":{"format":1}}"#, dataBytes: 0), mentions: ["__metadata__"])
    }

    func testRejectsOffsetsOutOfRange() {
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#, dataBytes: 16),
                        mentions: ["'w'", "[8, 24]", "16-byte data section"])
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, dataBytes: 16),
                        mentions: ["'w'", "ascending"])
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, dataBytes: 16),
                        mentions: ["'w'", "ascending"])
        assertMalformed(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                             dataBytes: 12), mentions: ["'b'", "overlap", "'a'"])
    }

    func testRejectsGapsAndTrailingBytes() {
        assertMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataBytes: 8),
                        mentions: ["'a'", "bytes 0..<4 unused"])
        assertMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 6),
                        mentions: ["end at byte 4 of the 6-byte data section"])
    }

    func testRejectsShapeSizeMismatch() {
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, dataBytes: 20),
                        mentions: ["'w'", "[2, 3]", "24 bytes", "20"])
        assertMalformed(file(header: #"{"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,12]}}"#, dataBytes: 12),
                        mentions: ["'w'", "6 bytes"])
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, dataBytes: 4),
                        mentions: ["'w'", "non-negative"])
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, dataBytes: 4),
                        mentions: ["'w'", "non-negative integers"])
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, dataBytes: 4),
                        mentions: ["'w'", "too many"])
    }

    func testRejectsUnknownDType() {
        let data = file(header: #"{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}"#, dataBytes: 16)
        XCTAssertThrowsError(try SafeTensorsFile(data: data, source: "bad.safetensors")) { error in
            XCTAssertEqual(error as? CheckpointError, .unsupportedDType(file: "bad.safetensors", tensor: "w", dtype: "F128"))
        }
    }

    func testMissingFileNamesIt() {
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: URL(fileURLWithPath: "/nonexistent/x.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/x.safetensors"), "\(error)")
        }
    }
}
