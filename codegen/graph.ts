/** Strongly connected components (Tarjan), for finding import cycles and recursive defs. */
export function stronglyConnected<T>(nodes: readonly T[], edges: (node: T) => Iterable<T>): Map<T, number> {
  const component = new Map<T, number>()
  const index = new Map<T, number>()
  const low = new Map<T, number>()
  const stack: T[] = []
  const onStack = new Set<T>()
  let counter = 0
  let components = 0

  // Iterative, so deep ref chains cannot overflow the call stack.
  for (const root of nodes) {
    if (index.has(root)) continue
    const work: { node: T; next: Iterator<T> }[] = []
    const enter = (node: T) => {
      index.set(node, counter)
      low.set(node, counter++)
      stack.push(node)
      onStack.add(node)
      work.push({ node, next: edges(node)[Symbol.iterator]() })
    }
    enter(root)
    while (work.length > 0) {
      const frame = work[work.length - 1]
      const step = frame.next.next()
      if (!step.done) {
        const target = step.value
        if (!index.has(target)) enter(target)
        else if (onStack.has(target)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!))
        continue
      }
      work.pop()
      if (work.length > 0) {
        const parent = work[work.length - 1].node
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!))
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        let member: T
        do {
          member = stack.pop()!
          onStack.delete(member)
          component.set(member, components)
        } while (member !== frame.node)
        components++
      }
    }
  }
  return component
}

/** Orders nodes so that each comes after its dependencies, keeping the given order where free. */
export function topologicalOrder<T>(nodes: readonly T[], dependencies: (node: T) => Iterable<T>): T[] {
  const position = new Map(nodes.map((node, i) => [node, i]))
  const done = new Set<T>()
  const order: T[] = []
  const visit = (node: T) => {
    if (done.has(node)) return
    done.add(node)
    const deps = [...dependencies(node)]
      .filter((d) => position.has(d))
      .sort((a, b) => position.get(a)! - position.get(b)!)
    deps.forEach(visit)
    order.push(node)
  }
  nodes.forEach(visit)
  return order
}
