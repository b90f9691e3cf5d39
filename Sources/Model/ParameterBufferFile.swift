import Checkpoint

extension ParameterBuffer {
    /// Adds every tensor to `writer` as F32, named `prefix + naming(name)` (e.g. "adam.m." for optimizer
    /// moments in a training checkpoint; `CheckpointNames.fileName` for another architecture's names).
    public func add(to writer: inout SafeTensorsWriter, prefix: String = "", naming: (String) -> String = { $0 }) throws {
        for entry in layout.entries {
            try writer.add(prefix + naming(entry.name), shape: entry.shape, floats: UnsafeBufferPointer(self[entry.name]))
        }
    }

    /// Reads every tensor `prefix + name` from `file`; a missing or mis-shaped tensor is an error naming it.
    public func load(from file: SafeTensorsFile, prefix: String = "") throws {
        for entry in layout.entries {
            let info = try file.info(prefix + entry.name)
            guard info.shape == entry.shape else {
                throw CheckpointError.shapeMismatch(file: file.source, tensor: info.name, expected: entry.shape, found: info.shape)
            }
            try file.readFloats(info.name, into: self[entry.name])
        }
    }
}
