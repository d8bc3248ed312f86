package main

// The ApplicationSet function set, as Argo CD's applicationset/utils builds it: Sprig's
// generic functions without those that read the environment (env, expandenv,
// getHostByName), plus normalize, slugify, toYaml, fromYaml and fromYamlArray.

import (
	"regexp"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/gosimple/slug"
	"sigs.k8s.io/yaml"
)

var applicationSetFuncs = func() template.FuncMap {
	f := template.FuncMap(sprig.GenericFuncMap())
	delete(f, "env")
	delete(f, "expandenv")
	delete(f, "getHostByName")
	f["normalize"] = sanitizeName
	f["slugify"] = slugifyName
	f["toYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["fromYamlArray"] = fromYAMLArray
	return f
}()

var invalidDNSNameChars = regexp.MustCompile("[^-a-z0-9.]")

// sanitizeName: lower case, anything but [-a-z0-9.] becomes '-', at most 253 bytes, no
// leading or trailing '-' or '.' (Argo's SanitizeName).
func sanitizeName(name string) string {
	name = strings.ToLower(name)
	name = invalidDNSNameChars.ReplaceAllString(name, "-")
	if len(name) > 253 {
		name = name[:253]
	}
	return strings.Trim(name, "-.")
}

// slugifyName takes [maxSize int] [smartTruncate bool] name, defaults 50 and true, as
// Argo's SlugifyName (whose type assertions panic on other types; text/template turns
// that into an "error calling slugify" error, as in Argo).
func slugifyName(args ...any) string {
	maxSize := 50
	smartTruncate := true
	name := ""
	for i, arg := range args {
		switch i {
		case len(args) - 1:
			name = arg.(string)
		case 0:
			maxSize = arg.(int)
		case 1:
			smartTruncate = arg.(bool)
		}
	}
	slug.EnableSmartTruncate = smartTruncate
	slug.MaxLength = maxSize
	return slug.Make(sanitizeName(name))
}

func toYAML(v any) (string, error) {
	data, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(data), "\n"), nil
}

func fromYAML(str string) (map[string]any, error) {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(str), &m); err != nil {
		return nil, err
	}
	return m, nil
}

func fromYAMLArray(str string) ([]any, error) {
	a := []any{}
	if err := yaml.Unmarshal([]byte(str), &a); err != nil {
		return nil, err
	}
	return a, nil
}
