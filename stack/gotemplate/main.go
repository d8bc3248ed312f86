// Command gotemplate renders Go text/templates with the function sets Argo CD uses, for
// Sluice's ApplicationSet `goTemplate: true` and its notification templates. It is a
// long-lived process speaking JSON lines: one request per stdin line, one response per
// stdout line, in request order.
//
//	{"id":1,"templates":["{{.a}}","{{.b | upper}}"],"data":{...},"options":{...}}
//	  -> {"id":1,"results":[{"output":"…"},{"error":"…"}]}
//	{"id":2,"template":"{{.a}}","data":{...},"options":{...}}
//	  -> {"id":2,"output":"…"} or {"id":2,"error":"…"}
//
// options: missingKey ("default"|"invalid"|"zero"|"error"), functions ("applicationset"|
// "notifications"), name (the template's name in error messages), repo (what the
// notification repo.* functions answer from, see notifications.go).
//
// Requests are handled one at a time: Argo's slugify configures the slug package through
// globals, so concurrent renders could see each other's settings.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/template"
	"time"
)

type options struct {
	MissingKey string     `json:"missingKey"`
	Functions  string     `json:"functions"`
	Name       string     `json:"name"`
	Repo       *repoHooks `json:"repo"`
}

type request struct {
	ID        json.RawMessage `json:"id"`
	Template  *string         `json:"template"`
	Templates []string        `json:"templates"`
	Data      json.RawMessage `json:"data"`
	Options   options         `json:"options"`
}

type result struct {
	Output *string `json:"output,omitempty"`
	Error  string  `json:"error,omitempty"`
}

type response struct {
	ID      json.RawMessage `json:"id"`
	Output  *string         `json:"output,omitempty"`
	Error   string          `json:"error,omitempty"`
	Results []result        `json:"results,omitempty"`
}

// maxOutput bounds one rendered template, so `{{repeat 1e9 "x"}}` is an error, not an out-of-memory kill.
const maxOutput = 32 << 20

var errTooLarge = fmt.Errorf("rendered output exceeds %d bytes", maxOutput)

type cappedBuffer struct{ bytes.Buffer }

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxOutput {
		return 0, errTooLarge
	}
	return b.Buffer.Write(p)
}

// parsed caches templates by their text and options: an ApplicationSet renders the same
// few strings for every parameter set.
type cacheKey struct{ functions, missingKey, name, text string }

type parseResult struct {
	tmpl *template.Template
	err  error
}

var parsed = map[cacheKey]parseResult{}

func parse(o options, text string) (*template.Template, error) {
	key := cacheKey{o.Functions, o.MissingKey, o.Name, text}
	if r, ok := parsed[key]; ok {
		return r.tmpl, r.err
	}
	t, err := newTemplate(o)
	if err == nil {
		t, err = t.Parse(text)
	}
	if len(parsed) >= 20000 {
		parsed = map[cacheKey]parseResult{}
	}
	parsed[key] = parseResult{t, err}
	return t, err
}

func newTemplate(o options) (*template.Template, error) {
	var t *template.Template
	switch o.Functions {
	case "applicationset", "":
		// Argo clones one template named "base" that carries the functions.
		name := o.Name
		if name == "" {
			name = "base"
		}
		t = template.New(name).Funcs(applicationSetFuncs)
	case "notifications":
		t = template.New(o.Name).Funcs(notificationFuncs)
	default:
		return nil, fmt.Errorf("unknown function set %q (want applicationset or notifications)", o.Functions)
	}
	switch o.MissingKey {
	case "", "default", "invalid", "zero", "error":
		if o.MissingKey != "" {
			t = t.Option("missingkey=" + o.MissingKey)
		}
	default:
		return nil, fmt.Errorf("unknown missingKey %q (want default, invalid, zero or error)", o.MissingKey)
	}
	return t, nil
}

// render gives the template's output or an error worded as Argo's ApplicationSet
// controller words it (notifications get text/template's own error, as Argo's engine).
func render(o options, text string, data any) result {
	appset := o.Functions != "notifications"
	t, err := parse(o, text)
	if err != nil {
		if appset {
			return result{Error: fmt.Sprintf("failed to parse template %s: %v", text, err)}
		}
		return result{Error: err.Error()}
	}
	var out cappedBuffer
	if err := t.Execute(&out, data); err != nil {
		if appset {
			return result{Error: fmt.Sprintf("failed to execute go template %s: %v", text, err)}
		}
		return result{Error: err.Error()}
	}
	s := out.String()
	return result{Output: &s}
}

func handle(req *request) response {
	resp := response{ID: req.ID}
	data, err := decodeData(req.Data, req.Options)
	fail := func(err error) response {
		if req.Template != nil {
			resp.Error = err.Error()
			return resp
		}
		resp.Results = make([]result, len(req.Templates))
		for i := range resp.Results {
			resp.Results[i] = result{Error: err.Error()}
		}
		return resp
	}
	if err != nil {
		return fail(err)
	}
	if req.Template != nil {
		r := render(req.Options, *req.Template, data)
		resp.Output, resp.Error = r.Output, r.Error
		return resp
	}
	resp.Results = make([]result, len(req.Templates))
	for i, text := range req.Templates {
		resp.Results[i] = render(req.Options, text, data)
	}
	return resp
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	lastFlush := time.Now()
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req request
			var resp response
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				resp = response{ID: json.RawMessage("null"), Error: "bad request: " + jerr.Error()}
			} else {
				resp = handle(&req)
			}
			if eerr := enc.Encode(resp); eerr != nil {
				fmt.Fprintln(os.Stderr, "gotemplate: writing response:", eerr)
				os.Exit(1)
			}
			// Answer as soon as no further request is complete in the buffer, so a lone
			// request is not held back, and at least every 20 ms during a long batch, so
			// the caller sees progress (its timeout counts from the last answer).
			pending, _ := in.Peek(in.Buffered())
			if bytes.IndexByte(pending, '\n') < 0 || time.Since(lastFlush) > 20*time.Millisecond {
				if ferr := out.Flush(); ferr != nil {
					os.Exit(1)
				}
				lastFlush = time.Now()
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				fmt.Fprintln(os.Stderr, "gotemplate: reading requests:", err)
				os.Exit(1)
			}
			_ = out.Flush()
			return
		}
	}
}
