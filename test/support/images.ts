/** A PNG header of the given size followed by filler: enough for type and aspect-ratio sniffing. */
export function fakePng(width: number, height: number, size = 1024): Uint8Array {
  const bytes = new Uint8Array(size)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  const view = new DataView(bytes.buffer)
  view.setUint32(16, width)
  view.setUint32(20, height)
  for (let i = 24; i < size; i++) bytes[i] = (i * 7) % 256
  return bytes
}
