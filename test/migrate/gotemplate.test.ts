// Go text/template as ContainerPilot renders it: the examples of its docs, Go's control flow,
// its rule for unset variables (missingkey=zero: ""), and errors that say where.
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../src/migrate/render.js';

const env = { PARTS: 'a:b:c', NAME: 'Template', CONSUL_AGENT: '1', EMPTY: '', N: '3', LIST: 'x y z' };
const render = (text: string, version: 2 | 3 = 3, e: Record<string, string | undefined> = env): string =>
  renderTemplate(text, { env: e, version, translate: false, at: 'migrate' }).text;

describe('ContainerPilot template functions (its documented examples)', () => {
  it.each([
    ['{{ .CONSUL | default "localhost" }}', 'localhost'],
    ['{{ .EMPTY | default "x" }}|{{ .NAME | default "x" }}|{{ default 10 .MISSING }}', 'x|Template|10'],
    ['Hello, {{.PARTS | split ":" | join "." }}!', 'Hello, a.b.c!'],
    ['Hello, {{.NAME | replaceAll "e" "_" }}!', 'Hello, T_mplat_!'],
    ['Hello, {{.NAME | regexReplaceAll "[epa]+" "_" }}!', 'Hello, T_m_l_t_!'],
    ['{{ .NAME | regexReplaceAll "(T)(e)" "${2}$1" }}', 'eTmplate'],
    ['{{ range $i := loop 5 }}{{ $i }},{{end}}', '0,1,2,3,4,'],
    ['{{ range $i := loop 5 8 }}{{ $i }},{{end}}', '5,6,7,'],
    ['{{ range $i := loop 5 1 }}{{ $i }},{{end}}', '5,4,3,2,'],
    ['{{ range $i := loop 0 .N }}{{ $i }}{{end}}', '012'],
    ['{{ env "NAME" }}|{{ env "MISSING" }}', 'Template|'],
    ['{{ "" | split "," | join ";" }}|{{ len ("a,b" | split ",") }}', '|2'],
  ])('%s → %s', (template, out) => {
    expect(render(template)).toBe(out);
  });

  it('renders an unset variable as empty, never "<no value>"', () => {
    expect(render('[{{ .MISSING }}]{{ if .MISSING }}set{{ else }}unset{{ end }}')).toBe('[]unset');
  });
});

describe('Go control flow', () => {
  it.each([
    ['{{ if .CONSUL_AGENT }}agent{{ else }}remote{{ end }}', 'agent'],
    ['{{ if .NOPE }}a{{ else if eq .N "3" }}b{{ else }}c{{ end }}', 'b'],
    ['{{ if .NOPE }}a{{ else if .NOPE2 }}b{{ else }}c{{ end }}', 'c'],
    ['{{ if and .CONSUL_AGENT .EMPTY }}y{{ else }}n{{ end }}{{ if or .EMPTY .N }}y{{ end }}{{ if not .EMPTY }}!{{ end }}', 'ny!'],
    ['{{ and .N .EMPTY .NAME }}|{{ or .EMPTY .N }}|{{ or .EMPTY "" }}', '|3|'],
    ['{{ if ne .N "4" }}ne{{ end }} {{ eq .N "1" "2" "3" }} {{ lt 1 2 }} {{ ge 2 3 }}', 'ne true true false'],
    ['{{ range .LIST | split " " }}<{{ . }}>{{ end }}', '<x><y><z>'],
    ['{{ range $i, $v := .LIST | split " " }}{{ $i }}={{ $v }};{{ end }}', '0=x;1=y;2=z;'],
    ['{{ range .MISSING | split "," }}x{{ else }}none{{ end }}', 'none'],
    ['{{ range $i, $v := .LIST | split " " }}{{ if eq $i 2 }}{{ break }}{{ end }}{{ if eq $i 0 }}{{ continue }}{{ end }}{{ $v }}{{ end }}', 'y'],
    ['{{ with .NAME }}<{{ . }}:{{ $.N }}>{{ end }}{{ with .EMPTY }}x{{ else }}empty{{ end }}', '<Template:3>empty'],
    ['{{ $x := "a" }}{{ if .N }}{{ $x = "b" }}{{ end }}{{ $x }}', 'b'],
    ['{{ $p := .PARTS | split ":" }}{{ index $p 1 }}{{ len $p }}{{ slice .NAME 0 4 }}', 'b3Temp'],
    ['{{ printf "%s-%d-%q-%v" .NAME 7 "q" true }} {{ print "a" 1 2 "b" }}', 'Template-7-"q"-true a1 2b'],
    ['a  {{- " b " -}}  c {{/* gone */}} d {{- /* gone too */ -}} e', 'a b c  de'],
    ['{{ (.PARTS | split ":") | join "+" }} {{ (printf "%s" .N) }}', 'a+b+c 3'],
  ])('%s → %s', (template, out) => {
    expect(render(template)).toBe(out);
  });
});

describe('errors name the line', () => {
  it.each([
    ['{\n  a: "{{ nope .X }}"\n}', /^function "nope" not defined$/, 2],
    ['x\n{{ if .A }}\ny', /has no \{\{end\}\}/, 3],
    ['{{ end }}', /unexpected \{\{end\}\}/, 1],
    ['{{ .A ', /unclosed action/, 1],
    ['{{ eq .N 3 }}', /incompatible types for comparison/, 1],
    ['{{ range .N }}{{ end }}', /range can't iterate over 3/, 1],
    ['{{ define "x" }}{{ end }}', /not supported/, 1],
    ['{{ .N | join "," }}', /expected \[\]string/, 1],
    ['{{ $nope }}', /undefined variable: \$nope/, 1],
  ])('%j', (template, message, line) => {
    expect(() => render(template)).toThrow(expect.objectContaining({ line, message: expect.stringMatching(message) }));
  });

  it('ContainerPilot 2 had no env or loop', () => {
    expect(() => render('{{ env "A" }}', 2)).toThrow(/function "env" not defined \(ContainerPilot 2 did not have it/);
    expect(render('{{ .NAME | default "x" }}', 2)).toBe('Template');
  });
});

describe('bounded: hostile templates fail with a message, not a crash or a hang', () => {
  it('deep nesting, huge loops and huge output are refused', () => {
    expect(() => render(`${'{{ if .N }}'.repeat(5000)}x${'{{ end }}'.repeat(5000)}`)).toThrow(/nested more than 200 deep/);
    expect(() => render(`{{ ${'('.repeat(5000)}.N${')'.repeat(5000)} }}`)).toThrow(/nested more than 200 deep/);
    expect(() => render('{{ range loop 1000000000 }}x{{ end }}')).toThrow(/loop: 1000000000 items/);
    expect(() => render('{{ range loop 100000 }}{{ range loop 100000 }}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{{ end }}{{ end }}')).toThrow(
      /would exceed 16 MiB/,
    );
    expect(() => render('{{ range loop 100000 }}{{ range loop 100000 }}{{ end }}{{ end }}')).toThrow(/more than 5000000 steps/);
  });

  it('reports lines right in a long file', () => {
    const text = `${'x\n'.repeat(20000)}{{ nope }}`;
    expect(() => render(text)).toThrow(expect.objectContaining({ line: 20001 }));
  });
});
