/**
 * Valibot's schema contract (`BaseSchema`, its issues and datasets, v1), restated as plain types so
 * the runtime needs no valibot at all: valibot is 1.8 MB installed, and apps that never call it
 * should not get it. TypeScript compares these structurally, so `v.parse`, `v.safeParse` and
 * `v.pipe` accept our schemas wherever valibot is installed; the type-check of test/schema.test.ts
 * (which calls all three) fails if the two drift apart.
 */

export interface ValibotConfig {
  readonly lang?: string | undefined
  readonly message?: ((issue: never) => string) | string | undefined
  readonly abortEarly?: boolean | undefined
  readonly abortPipeEarly?: boolean | undefined
}

export interface ArrayPathItem {
  readonly type: 'array'
  readonly origin: 'value'
  readonly input: readonly unknown[]
  readonly key: number
  readonly value: unknown
}

export interface ObjectPathItem {
  readonly type: 'object'
  readonly origin: 'key' | 'value'
  readonly input: Record<string, unknown>
  readonly key: string
  readonly value: unknown
}

export type IssuePathItem = ArrayPathItem | ObjectPathItem

/** The issue our schemas report through `~run`, shaped as valibot's `BaseIssue`. */
export interface LexIssue {
  readonly kind: 'schema'
  readonly type: 'lexicon'
  readonly input: unknown
  readonly expected: string | null
  readonly received: string
  readonly message: string
  readonly requirement?: unknown
  readonly path?: [IssuePathItem, ...IssuePathItem[]] | undefined
  readonly issues?: undefined
  readonly lang?: string | undefined
  readonly abortEarly?: boolean | undefined
  readonly abortPipeEarly?: boolean | undefined
}

export interface UnknownDataset {
  typed?: false
  value: unknown
  issues?: undefined
}

export type OutputDataset<T> =
  { typed: true; value: T; issues?: undefined } | { typed: false; value: unknown; issues: [LexIssue, ...LexIssue[]] }

/** Standard Schema v1, as valibot's `BaseSchema` requires it (its `vendor` typed as valibot's own literal). */
export interface StandardProps<T> {
  readonly version: 1
  readonly vendor: 'valibot'
  readonly validate: (value: unknown) => StandardResult<T>
  readonly types?: { readonly input: unknown; readonly output: T } | undefined
}

export type StandardResult<T> =
  | { readonly value: T; readonly issues?: undefined }
  | {
      readonly issues: readonly { readonly message: string; readonly path?: readonly { readonly key: PropertyKey }[] }[]
    }

/** What valibot calls a schema (`BaseSchema<unknown, T, LexIssue>`). */
export interface ValibotSchema<T> {
  readonly kind: 'schema'
  readonly type: string
  readonly reference: (...args: any[]) => ValibotSchema<unknown>
  readonly expects: string
  readonly async: false
  readonly '~standard': StandardProps<T>
  readonly '~run': (dataset: UnknownDataset, config: ValibotConfig) => OutputDataset<T>
  readonly '~types'?: { readonly input: unknown; readonly output: T; readonly issue: LexIssue } | undefined
}
