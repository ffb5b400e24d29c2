/**
 * Finds the approval form on an OAuth consent page and builds the submission a browser would send.
 * Uses parse5, the WHATWG-conformant HTML parser (the one jsdom uses): it tokenizes, decodes
 * entities and repairs malformed markup exactly as a browser does, so a template's page parses
 * the way the user's browser sees it; regular expressions do not.
 */
import { parse, type DefaultTreeAdapterMap } from 'parse5'

type Node = DefaultTreeAdapterMap['node']
type Element = DefaultTreeAdapterMap['element']

/** What the headless browser submits: a form's method, action and every successful control. */
export interface FormSubmission {
  method: 'GET' | 'POST'
  action: URL
  fields: [string, string][]
  /** The submit button chosen (its label), for the step log. */
  submitter?: string
}

/** A page read for what the headless browser can do next. */
export interface PageReading {
  /** The form to submit, when the page has one that approves (or denies). */
  form?: FormSubmission
  /** `<meta http-equiv="refresh" content="0;url=…">`. */
  refresh?: URL
  /** The page runs scripts and offers no form: it needs a real browser. */
  needsJavaScript: boolean
  title?: string
}

const APPROVE = /\b(approve|allow|accept|authori[sz]e|grant|continue|confirm|consent|yes|sign ?in|log ?in)\b/i
const DENY = /\b(deny|reject|decline|cancel|no thanks|refuse)\b/i

const attr = (element: Element, name: string) => element.attrs.find((a) => a.name === name)?.value
const isElement = (node: Node): node is Element => 'tagName' in node

function* walk(node: Node): Generator<Element> {
  const children = 'childNodes' in node ? node.childNodes : []
  for (const child of children) {
    if (isElement(child)) {
      yield child
      if (child.tagName === 'template') yield* walk((child as DefaultTreeAdapterMap['template']).content as unknown as Node)
    }
    yield* walk(child)
  }
}

const textOf = (node: Node): string => ('value' in node && node.nodeName === '#text' ? String(node.value) : 'childNodes' in node ? node.childNodes.map(textOf).join('') : '')

/** The label a person reads on a submit control. */
const labelOf = (element: Element) => (element.tagName === 'button' ? textOf(element) : (attr(element, 'value') ?? '')).trim() || attr(element, 'name') || ''

const isSubmitter = (element: Element) =>
  (element.tagName === 'button' && (attr(element, 'type') ?? 'submit').toLowerCase() === 'submit') || (element.tagName === 'input' && ['submit', 'image'].includes((attr(element, 'type') ?? '').toLowerCase()))

/**
 * Reads an HTML page: the approval form (every hidden field, ticked box and selected option, plus
 * the approve button's own name/value), a meta refresh, or whether only JavaScript can go on.
 * @example const { form } = readPage(html, new URL(pageUrl)); form?.fields // [['state', '…'], ['csrf_token', '…']]
 */
export function readPage(html: string, pageUrl: URL, decision: 'approve' | 'deny' = 'approve'): PageReading {
  const document = parse(html)
  const elements = [...walk(document as unknown as Node)]
  const title = elements.find((e) => e.tagName === 'title')
  const forms = elements.filter((e) => e.tagName === 'form')
  const candidates = forms.map((form) => {
    const controls = [...walk(form)]
    // Controls outside the form that name it with form="id" belong to it too (HTML's form owner).
    const id = attr(form, 'id')
    if (id) controls.push(...elements.filter((e) => attr(e, 'form') === id && !controls.includes(e)))
    const submitters = controls.filter(isSubmitter)
    const wanted = decision === 'approve' ? APPROVE : DENY
    const other = decision === 'approve' ? DENY : APPROVE
    const submitter =
      submitters.find((s) => wanted.test(labelOf(s)) || wanted.test(attr(s, 'value') ?? '') || wanted.test(attr(s, 'name') ?? '')) ??
      (decision === 'approve' ? submitters.find((s) => !other.test(labelOf(s))) : undefined)
    return { form, controls, submitter, score: (submitter ? 2 : 0) + ((attr(form, 'method') ?? '').toLowerCase() === 'post' ? 1 : 0) }
  })
  const best = candidates.filter((c) => c.submitter || (decision === 'approve' && c.controls.length > 0)).sort((a, b) => b.score - a.score)[0]
  const refreshMeta = elements.find((e) => e.tagName === 'meta' && (attr(e, 'http-equiv') ?? '').toLowerCase() === 'refresh')
  const refreshUrl = refreshMeta && /url\s*=\s*['"]?([^'"]+)/i.exec(attr(refreshMeta, 'content') ?? '')?.[1]
  const hasScripts = elements.some((e) => e.tagName === 'script')
  return {
    ...(best ? { form: submission(best.form, best.controls, best.submitter, pageUrl) } : {}),
    ...(refreshUrl ? { refresh: new URL(refreshUrl, pageUrl) } : {}),
    needsJavaScript: !best && !refreshUrl && hasScripts,
    ...(title ? { title: textOf(title).trim() } : {}),
  }
}

/** HTML's "constructing the entry list" for urlencoded forms, for the controls a consent page uses. */
function submission(form: Element, controls: Element[], submitter: Element | undefined, pageUrl: URL): FormSubmission {
  const fields: [string, string][] = []
  for (const control of controls) {
    const name = attr(control, 'name')
    if (!name || control.attrs.some((a) => a.name === 'disabled')) continue
    if (control.tagName === 'input') {
      const type = (attr(control, 'type') ?? 'text').toLowerCase()
      if (['submit', 'image', 'button', 'reset', 'file'].includes(type)) continue
      if ((type === 'checkbox' || type === 'radio') && !control.attrs.some((a) => a.name === 'checked')) continue
      fields.push([name, attr(control, 'value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : '')])
    } else if (control.tagName === 'select') {
      const options = [...walk(control)].filter((e) => e.tagName === 'option')
      const selected = options.filter((o) => o.attrs.some((a) => a.name === 'selected'))
      for (const option of selected.length ? selected : options.slice(0, 1)) fields.push([name, attr(option, 'value') ?? textOf(option).trim()])
    } else if (control.tagName === 'textarea') {
      fields.push([name, textOf(control)])
    }
  }
  // The button pressed submits its own name=value (e.g. `action=approve`), as a browser does.
  if (submitter && attr(submitter, 'name')) fields.push([attr(submitter, 'name')!, attr(submitter, 'value') ?? ''])
  const method = ((submitter && attr(submitter, 'formmethod')) ?? attr(form, 'method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET'
  const action = new URL((submitter && attr(submitter, 'formaction')) || attr(form, 'action') || pageUrl.href, pageUrl)
  return { method, action, fields, ...(submitter ? { submitter: labelOf(submitter) } : {}) }
}
