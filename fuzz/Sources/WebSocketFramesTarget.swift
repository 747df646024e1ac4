import NIOCore
import PalisadeProtocol

@testable import PalisadeServer

/// Client bytes after the upgrade through the server's frame reader, read whole and in pieces of
/// a size the first byte picks (as reads arrive); both must give the same frames and the same
/// failure. Close payloads go through the close-frame rules, whole text messages through the
/// Engine.IO decoder, as `WebSocketTransportHandler` does.
enum WebSocketFramesTarget {
    /// Small, so the too-large path is reached; the server's default is far larger.
    static let maxFrameBytes = 4096

    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let rest = bytes.dropFirst()
        let whole = frames(of: [rest])
        let pieces = frames(of: FuzzInput.chunks(rest, size: Int(first % 32) + 1))
        check(whole.frames == pieces.frames && whole.failure == pieces.failure, "frames differ when read in pieces")
        for frame in whole.frames {
            switch frame.opcode {
            case .close: _ = WebSocketCloseFrame.problem(in: frame.payload)
            case .text where frame.fin: _ = try? EngineCodec.decode(text: frame.payload)
            default: break
            }
        }
    }

    struct Outcome {
        var frames: [Frame] = []
        var failure: WebSocketFrameReader.Failure?
    }

    struct Frame: Equatable {
        var fin: Bool
        var opcode: WebSocketFrameReader.Opcode
        var payload: ByteBuffer
    }

    static func frames(of reads: [ArraySlice<UInt8>]) -> Outcome {
        var reader = WebSocketFrameReader(maxFrameBytes: maxFrameBytes)
        var outcome = Outcome()
        for read in reads {
            var buffer = ByteBuffer(bytes: read)
            reader.append(&buffer)
            do {
                while let frame = try reader.next(allocator: ByteBufferAllocator()) {
                    check(frame.payload.readableBytes <= maxFrameBytes, "a frame over the limit")
                    outcome.frames.append(Frame(fin: frame.fin, opcode: frame.opcode, payload: frame.payload))
                }
            } catch {
                outcome.failure = error
                return outcome
            }
        }
        return outcome
    }
}
