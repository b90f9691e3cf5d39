import Checkpoint
import Foundation
import Model
import TestSupport
import XCTest

/// The real all-MiniLM-L6-v2 (installed by scripts/setup) on real SQuAD question+context pairs: our
/// last_hidden_state against PyTorch's, stored in fixtures/model/minilm_hidden.safetensors.
final class MiniLMHiddenStateTests: XCTestCase {
    func testLastHiddenStateMatchesPyTorch() throws {
        let loaded = try ModelDirectory.load(TestPaths.miniLMDirectory, spanHead: .ifPresent)
        XCTAssertEqual(loaded.model.heads, [], "MiniLM has no task head")
        XCTAssertEqual(loaded.vocabulary?.count, 30522)
        XCTAssertEqual(loaded.doLowerCase, true)
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors"))
        let batch = try fixtureBatch(fixture)
        XCTAssertTrue(batch.attentionMask.contains(0), "the fixture batch must have padding")
        try loaded.model.encode(batch)
        let hidden = loaded.model.lastHiddenState()
        let expected = try fixture.floats("last_hidden_state")
        // Padding rows included: their hidden states are defined (they attend to the real tokens).
        let error = maxAbsDifference(hidden, expected)
        XCTAssertLessThanOrEqual(error, 1e-4, "max |ours − PyTorch| over \(expected.count) values")
    }
}
