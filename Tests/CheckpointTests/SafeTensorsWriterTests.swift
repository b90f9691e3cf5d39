import Checkpoint
import Foundation
import TestSupport
import XCTest

final class SafeTensorsWriterTests: XCTestCase {
    func testRoundTripAndHuggingFaceLayout() throws {
        var writer = SafeTensorsWriter()
        let weights: [Float] = (0..<12).map { Float($0) * 0.25 - 1 }
        try writer.add("layer.weight", shape: [3, 4], floats: weights)
        try writer.add("ids", shape: [2, 2], int32s: [1, -2, 3, 40000])
        try writer.add("\"odd\" name", shape: [1], floats: [.infinity])
        let data = writer.serialized()
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        XCTAssertEqual(headerLength % 8, 0, "header is padded so that data starts aligned")
        let header = String(decoding: data[8..<(8 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix(#"{"__metadata__":{"format":"pt"}"#), header)
        XCTAssertEqual(data.count, 8 + headerLength + 12 * 4 + 4 * 4 + 4)

        let file = try SafeTensorsFile(data: data, source: "memory")
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.names, ["layer.weight", "ids", "\"odd\" name"])
        XCTAssertEqual(try file.info("layer.weight").shape, [3, 4])
        XCTAssertEqual(try file.floats("layer.weight"), weights)
        XCTAssertEqual(try file.int32s("ids"), [1, -2, 3, 40000])
        XCTAssertEqual(try file.floats("\"odd\" name"), [.infinity])
    }

    /// Rewriting every tensor of a Hugging Face file reproduces its values bit for bit.
    func testRewritesHuggingFaceFile() throws {
        let original = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/tiny_mlm_model/model.safetensors"))
        var writer = SafeTensorsWriter()
        for name in original.names {
            try writer.add(name, shape: original.tensors[name]!.shape, floats: try original.floats(name))
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rewrite-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try writer.write(to: url)
        let copy = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(Set(copy.tensors.keys), Set(original.tensors.keys))
        for name in original.names {
            XCTAssertEqual(try copy.floats(name), try original.floats(name), name)
            XCTAssertEqual(copy.tensors[name]!.shape, original.tensors[name]!.shape, name)
        }
    }

    func testRejectsBadAdditions() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", shape: [2], floats: [1, 2])
        XCTAssertThrowsError(try writer.add("a", shape: [1], floats: [1])) { XCTAssertTrue("\($0)".contains("'a'")) }
        XCTAssertThrowsError(try writer.add("b", shape: [3], floats: [1, 2])) { XCTAssertTrue("\($0)".contains("'b'")) }
        XCTAssertThrowsError(try writer.add("__metadata__", shape: [1], floats: [1]))
    }
}
