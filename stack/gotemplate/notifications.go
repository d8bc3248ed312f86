package main

// The notification function set, as Argo CD's notification controller (notifications-
// engine templates plus argo-cd util/notification/expression) gives it: Sprig's text
// functions without env and expandenv; and, as data beside the caller's variables, the
// namespaces templates reach with `call`: .time, .strings, .sync and .repo, e.g.
// {{ (call .time.Parse .app.status.operationState.startedAt).Format "15:04" }}.
//
// repo.GetCommitMetadata and repo.GetAppDetails need the repository server in Argo; here
// the caller puts their answers in options.repo (it knows the revisions the notification
// is about) and a lookup of anything not given is an error naming what was missing.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	giturls "github.com/chainguard-dev/git-urls"
)

var notificationFuncs = func() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	return f
}()

var timeExprs = map[string]any{
	"Parse": func(timestamp string) time.Time {
		t, err := time.Parse(time.RFC3339, timestamp)
		if err != nil {
			panic(err)
		}
		return t
	},
	"Now":         time.Now,
	"Nanosecond":  time.Nanosecond,
	"Microsecond": time.Microsecond,
	"Millisecond": time.Millisecond,
	"Second":      time.Second,
	"Minute":      time.Minute,
	"Hour":        time.Hour,
	"Layout":      time.Layout,
	"ANSIC":       time.ANSIC,
	"UnixDate":    time.UnixDate,
	"RubyDate":    time.RubyDate,
	"RFC822":      time.RFC822,
	"RFC822Z":     time.RFC822Z,
	"RFC850":      time.RFC850,
	"RFC1123":     time.RFC1123,
	"RFC1123Z":    time.RFC1123Z,
	"RFC3339":     time.RFC3339,
	"RFC3339Nano": time.RFC3339Nano,
	"Kitchen":     time.Kitchen,
	"Stamp":       time.Stamp,
	"StampMilli":  time.StampMilli,
	"StampMicro":  time.StampMicro,
	"StampNano":   time.StampNano,
}

var stringsExprs = map[string]any{
	"ReplaceAll": strings.ReplaceAll,
	"ToUpper":    strings.ToUpper,
	"ToLower":    strings.ToLower,
}

// syncExprs: sync.GetInfoItem(app, name), the value of the sync operation's info item
// `name` (from app.operation, else app.status.operationState.operation).
var syncExprs = map[string]any{
	"GetInfoItem": func(app map[string]any, name string) string {
		appName := ""
		if md, ok := app["metadata"].(map[string]any); ok {
			appName, _ = md["name"].(string)
		}
		operation, ok := app["operation"].(map[string]any)
		if !ok {
			if st, sok := app["status"].(map[string]any); sok {
				if os, ook := st["operationState"].(map[string]any); ook {
					operation, ok = os["operation"].(map[string]any)
				}
			}
		}
		if !ok {
			panic(fmt.Errorf("application '%s' has no operation", appName))
		}
		items, ok := operation["info"].([]any)
		if !ok {
			panic(fmt.Errorf("application '%s' has no info items", appName))
		}
		for _, it := range items {
			item, ok := it.(map[string]any)
			if !ok || item["name"] != name {
				continue
			}
			v, ok := item["value"].(string)
			if !ok {
				panic(fmt.Errorf("application '%s' has invalid value of info item '%s'", appName, name))
			}
			return v
		}
		panic(fmt.Errorf("application '%s' has no info item with name '%s'", appName, name))
	},
}

// CommitMetadata and AppDetail carry Argo's field names, so templates read them as in Argo.
type CommitMetadata struct {
	Message string
	Author  string
	Date    time.Time
	Tags    []string
}

type HelmParameter struct {
	Name        string
	Value       string
	ForceString bool
}

type HelmFileParameter struct {
	Name string
	Path string
}

type HelmAppSpec struct {
	Name           string
	ValueFiles     []string
	Parameters     []*HelmParameter
	Values         string
	FileParameters []*HelmFileParameter
}

type CustomHelmAppSpec struct {
	HelmAppSpec            HelmAppSpec
	HelmParameterOverrides []HelmParameter
}

func (h CustomHelmAppSpec) GetParameterValueByName(name string) string {
	for _, p := range h.HelmParameterOverrides {
		if p.Name == name {
			return p.Value
		}
	}
	for _, p := range h.HelmAppSpec.Parameters {
		if p != nil && p.Name == name {
			return p.Value
		}
	}
	return ""
}

func (h CustomHelmAppSpec) GetFileParameterPathByName(name string) string {
	for _, p := range h.HelmAppSpec.FileParameters {
		if p != nil && p.Name == name {
			return p.Path
		}
	}
	return ""
}

type AppDetail struct {
	Type      string
	Helm      *CustomHelmAppSpec
	Kustomize map[string]any
	Directory map[string]any
}

// repoHooks is what the caller knows about the application's repository.
type repoHooks struct {
	Commits    map[string]CommitMetadata `json:"commits"`
	AppDetails *AppDetail                `json:"appDetails"`
}

var gitSuffix = regexp.MustCompile(`\.git$`)

func fullNameByRepoURL(rawURL string) string {
	parsed, err := giturls.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	path := gitSuffix.ReplaceAllString(parsed.Path, "")
	var parts []string
	for _, p := range strings.Split(path, "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) >= 2 {
		return strings.Join(parts[:2], "/")
	}
	return path
}

func repoURLToHTTPS(rawURL string) string {
	parsed, err := giturls.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	parsed.Scheme = "https"
	parsed.User = nil
	return parsed.String()
}

func repoExprs(hooks *repoHooks) map[string]any {
	return map[string]any{
		"RepoURLToHTTPS":    repoURLToHTTPS,
		"FullNameByRepoURL": fullNameByRepoURL,
		"QueryEscape":       url.QueryEscape,
		"GetCommitMetadata": func(sha string) any {
			if hooks != nil {
				if m, ok := hooks.Commits[sha]; ok {
					return m
				}
			}
			panic(fmt.Errorf("repo.GetCommitMetadata: no metadata for commit %q was given to the template", sha))
		},
		"GetAppDetails": func() any {
			if hooks == nil || hooks.AppDetails == nil {
				panic(fmt.Errorf("repo.GetAppDetails: no application details were given to the template"))
			}
			return *hooks.AppDetails
		},
	}
}

// decodeData turns the request's data into template data. Notification variables come
// from Kubernetes objects, which Argo reads as unstructured maps (whole numbers as int64,
// others float64), and get the helper namespaces; ApplicationSet parameters are decoded as
// Argo decodes generator output (encoding/json: every number a float64).
func decodeData(raw json.RawMessage, o options) (any, error) {
	if o.Functions != "notifications" {
		var data any
		if len(raw) == 0 {
			return nil, nil
		}
		if err := json.Unmarshal(raw, &data); err != nil {
			return nil, fmt.Errorf("bad data: %w", err)
		}
		return data, nil
	}
	vars := map[string]any{}
	if len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&vars); err != nil {
			return nil, fmt.Errorf("bad data (notification variables must be an object): %w", err)
		}
		for k, v := range vars {
			vars[k] = unstructuredNumbers(v)
		}
	}
	vars["time"] = timeExprs
	vars["strings"] = stringsExprs
	vars["sync"] = syncExprs
	vars["repo"] = repoExprs(o.Repo)
	return vars, nil
}

func unstructuredNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = unstructuredNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = unstructuredNumbers(e)
		}
	}
	return v
}
