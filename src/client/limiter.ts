/**
 * At most so many requests in flight per origin, the rest queued in order. Without it, a thousand
 * concurrent calls open a thousand sockets to one server (and a process's file descriptors run out);
 * browsers cap connections per host themselves, Node's fetch does not.
 */
export class OriginLimiter {
  readonly #active = new Map<string, number>()
  readonly #queues = new Map<string, (() => void)[]>()

  constructor(readonly perOrigin: number) {}

  /** Resolves with a release function once a slot for `origin` is free; rejects if `signal` aborts first. */
  acquire(origin: string, signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted()
    const active = this.#active.get(origin) ?? 0
    if (active < this.perOrigin) {
      this.#active.set(origin, active + 1)
      return Promise.resolve(this.#releaser(origin))
    }
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(origin) ?? []
      this.#queues.set(origin, queue)
      const grant = () => {
        signal.removeEventListener('abort', abandon)
        resolve(this.#releaser(origin))
      }
      const abandon = () => {
        const index = queue.indexOf(grant)
        if (index >= 0) queue.splice(index, 1)
        if (!queue.length) this.#queues.delete(origin)
        reject(signal.reason)
      }
      signal.addEventListener('abort', abandon, { once: true })
      queue.push(grant)
    })
  }

  #releaser(origin: string): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#queues.get(origin)?.shift()
      if (next) {
        if (!this.#queues.get(origin)!.length) this.#queues.delete(origin)
        next() // the slot passes straight to the next in line
        return
      }
      const active = this.#active.get(origin)! - 1
      if (active) this.#active.set(origin, active)
      else this.#active.delete(origin)
    }
  }
}
