/**
 * Where recovered entry data lives. Copying each entry's data into its own allocation costs more
 * than reading and checksumming the log at a million entries (allocation and garbage collection
 * were half of recovery's profile); handing out views of the segment image would keep whole
 * 64 MiB segments, zero-filled tails included, alive for one retained entry. So data is copied
 * into shared chunks: one retained entry keeps at most one chunk alive, and the log is compacted
 * oldest first, so chunks are freed in order. One arena serves one recovery; nothing is global.
 */

/** Chunk size; data this large or larger gets its own allocation. */
const CHUNK_BYTES = 1024 * 1024;
const OWN_ALLOCATION_BYTES_MIN = 64 * 1024;

/** Copies byte ranges into shared chunks and returns views of the copies. */
export class EntryDataArena {
  private chunk = new Uint8Array(0);
  private usedBytes = 0;

  /** A copy of source[start, end) that shares its chunk with neighbouring copies. */
  copy(source: Uint8Array, start: number, end: number): Uint8Array {
    const length = end - start;
    if (length >= OWN_ALLOCATION_BYTES_MIN) return source.slice(start, end);
    if (this.usedBytes + length > this.chunk.byteLength) {
      this.chunk = new Uint8Array(CHUNK_BYTES);
      this.usedBytes = 0;
    }
    this.chunk.set(source.subarray(start, end), this.usedBytes);
    const view = this.chunk.subarray(this.usedBytes, this.usedBytes + length);
    this.usedBytes += length;
    return view;
  }
}
