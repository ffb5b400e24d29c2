import { describe, expect, test } from 'vitest'
import { readPage } from './consent-form.ts'

const PAGE = new URL('http://127.0.0.1:8788/authorize?client_id=x')

describe('readPage', () => {
  test('submits a template approval form with state and CSRF token, ignoring the Cancel button', () => {
    const html = `<!doctype html><title>Approve</title><form method="post" action="/authorize">
      <input type="hidden" name="state" value="st&amp;1"><input type="hidden" name="csrf_token" value="c&#x2F;2">
      <button type="button" onclick="history.back()">Cancel</button><button type="submit">Approve</button></form>`
    const { form, title } = readPage(html, PAGE)
    expect(title).toBe('Approve')
    expect(form).toMatchObject({ method: 'POST', fields: [['state', 'st&1'], ['csrf_token', 'c/2']], submitter: 'Approve' })
    expect(form?.action.href).toBe('http://127.0.0.1:8788/authorize')
  })

  test('sends ticked boxes and the pressed button, and picks the deny button when asked', () => {
    const html = `<form method="post"><input type="hidden" name="handle" value="h">
      <input type="checkbox" name="scope" value="mcp" checked><input type="checkbox" name="scope" value="admin">
      <select name="account"><option value="a1">One</option><option value="a2" selected>Two</option></select>
      <button name="decision" value="approve">Allow</button><button name="decision" value="deny">Deny</button></form>`
    expect(readPage(html, PAGE).form?.fields).toEqual([['handle', 'h'], ['scope', 'mcp'], ['account', 'a2'], ['decision', 'approve']])
    expect(readPage(html, PAGE, 'deny').form?.fields.at(-1)).toEqual(['decision', 'deny'])
  })

  test('parses malformed markup as a browser does and honours form= owners and formaction', () => {
    const html = `<form id="f" method=POST action=/consent><input type=hidden name=state value=s1>
      <p><b>unclosed</form><input form="f" type="hidden" name="csrf" value="outside">
      <button form="f" formaction="/consent/approve" type="submit">Authorize</button>`
    const { form } = readPage(html, PAGE)
    expect(form?.fields).toEqual([['state', 's1'], ['csrf', 'outside']])
    expect(form?.action.pathname).toBe('/consent/approve')
  })

  test('follows a meta refresh and flags a page that only works with JavaScript', () => {
    expect(readPage('<meta http-equiv="refresh" content="0; url=/next">', PAGE).refresh?.pathname).toBe('/next')
    expect(readPage('<div id="root"></div><script src="/app.js"></script>', PAGE)).toMatchObject({ needsJavaScript: true })
    expect(readPage('<p>Sign-in failed</p>', PAGE)).toMatchObject({ needsJavaScript: false })
  })
})
