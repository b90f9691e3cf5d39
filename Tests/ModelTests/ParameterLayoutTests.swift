import Checkpoint
import Foundation
import Model
import TestSupport
import XCTest

final class ParameterLayoutTests: XCTestCase {
    /// The layout holds exactly the tensors of all-MiniLM-L6-v2 that a BERT encoder uses.
    func testMiniLMLayoutCoversTheCheckpoint() throws {
        let directory = TestPaths.miniLMDirectory
        let config = try BertConfig.load(from: directory.appendingPathComponent("config.json"))
        let layout = ParameterLayout(config: config, heads: [])
        let file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        let used = file.tensors.values.filter { !$0.name.hasPrefix("pooler.") && !$0.name.hasSuffix("position_ids") }
        XCTAssertEqual(layout.entries.count, used.count)
        XCTAssertEqual(layout.count, used.map(\.elementCount).reduce(0, +))
        XCTAssertEqual(layout.count, 22_565_376)
        for tensor in used {
            XCTAssertEqual(layout.entry("bert." + tensor.name)?.shape, tensor.shape, tensor.name)
        }
    }

    func testQKVAdjacentAndDecayFlags() throws {
        let config = BertConfig(hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64, vocabSize: 50)
        let layout = ParameterLayout(config: config, heads: [.span, .mlm])
        for l in 0..<2 {
            let p = "bert.encoder.layer.\(l).attention.self."
            let q = layout.entry(p + "query.weight")!, k = layout.entry(p + "key.weight")!, v = layout.entry(p + "value.weight")!
            XCTAssertEqual([k.offset, v.offset], [q.offset + 1024, q.offset + 2048])
            XCTAssertEqual(layout.layers[l].qkvWeight, q.offset)
            let qb = layout.entry(p + "query.bias")!
            XCTAssertEqual([layout.entry(p + "key.bias")!.offset, layout.entry(p + "value.bias")!.offset], [qb.offset + 32, qb.offset + 64])
            XCTAssertEqual(layout.layers[l].qkvBias, qb.offset)
        }
        XCTAssertEqual(layout.entries.last?.name, "cls.predictions.bias")
        XCTAssertEqual(layout.count, layout.entries.map(\.count).reduce(0, +))
        for entry in layout.entries {
            let noDecay = entry.name.hasSuffix("bias") || entry.name.contains("LayerNorm")
            XCTAssertEqual(entry.decays, !noDecay, entry.name)
        }
        let decaying = layout.decayRanges.map(\.count).reduce(0, +)
        XCTAssertEqual(decaying, layout.entries.filter(\.decays).map(\.count).reduce(0, +))
        for range in layout.decayRanges {
            for entry in layout.entries where !entry.decays {
                XCTAssertFalse(range.overlaps(entry.range), "\(entry.name) must not decay")
            }
        }
    }
}
