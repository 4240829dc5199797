package desktopdrv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The helpers below act on the first element matching a CSS selector and fail with a *JSError
// naming the selector when nothing matches. They do not wait for the element: call WaitFor
// first when the UI renders it asynchronously, so a test states what it is waiting for.

// jsString quotes s as a JavaScript string literal (JSON strings are valid JS, and Go's encoder
// escapes U+2028/U+2029 too).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// onElement builds an expression that runs body with el bound to the selector's element.
func onElement(selector, body string) string {
	return fmt.Sprintf(`(() => {
  const sel = %s;
  const el = document.querySelector(sel);
  if (!el) throw new Error("no element matches " + sel);
  %s
})()`, jsString(selector), body)
}

// Click clicks the element as a user would: it scrolls it into view, focuses it and calls
// click(), which fires the click event frameworks listen for and activates links, buttons and
// checkboxes. A disabled element is an error, because a user could not click it either.
func (a *App) Click(ctx context.Context, selector string) error {
	_, err := a.Eval(ctx, onElement(selector, `
  if (el.disabled) throw new Error(sel + " is disabled");
  el.scrollIntoView({block: "center"});
  if (typeof el.focus === "function") el.focus();
  el.click();
  return true;`))
	return err
}

// SetValue replaces the value of an input, textarea or select the way typing would look to a
// framework: it calls the prototype's native value setter (React and Preact compat track the
// value through the element's own property, so plain el.value = x can go unnoticed), then
// dispatches bubbling "input" and "change" events, which is what their onInput/onChange
// handlers listen for.
func (a *App) SetValue(ctx context.Context, selector, text string) error {
	_, err := a.Eval(ctx, onElement(selector, fmt.Sprintf(`
  const text = %s;
  const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype
    : el instanceof HTMLSelectElement ? HTMLSelectElement.prototype
    : HTMLInputElement.prototype;
  const desc = Object.getOwnPropertyDescriptor(proto, "value");
  if (!(el instanceof proto.constructor) || !desc || !desc.set) throw new Error(sel + " has no value to set");
  if (el.disabled || el.readOnly) throw new Error(sel + " is disabled or read-only");
  el.focus();
  desc.set.call(el, text);
  el.dispatchEvent(new InputEvent("input", {bubbles: true, inputType: "insertText", data: text}));
  el.dispatchEvent(new Event("change", {bubbles: true}));
  return el.value;`, jsString(text))))
	return err
}

// Text returns the element's textContent with surrounding white space trimmed. textContent,
// unlike innerText, does not depend on layout or CSS, so it reads the same whatever the
// window size.
func (a *App) Text(ctx context.Context, selector string) (string, error) {
	v, err := a.Eval(ctx, onElement(selector, `return el.textContent;`))
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("desktopdrv: text of %s: %s is not a string", selector, v)
	}
	return strings.TrimSpace(s), nil
}

// Exists reports whether any element matches the selector. An invalid selector is an error,
// not false, so a typo cannot make a test pass.
func (a *App) Exists(ctx context.Context, selector string) (bool, error) {
	v, err := a.Eval(ctx, fmt.Sprintf(`document.querySelector(%s) !== null`, jsString(selector)))
	if err != nil {
		return false, err
	}
	return string(v) == "true", nil
}

// PressEnter sends Enter to the element: keydown, keypress and keyup events (key "Enter",
// keyCode 13) after focusing it. Synthetic key events do not trigger the browser's default
// actions, so when no handler cancels the keydown and the element is a text input in a form,
// PressEnter submits the form with requestSubmit(), as a browser's implicit submission would
// (submit handlers and validation run).
func (a *App) PressEnter(ctx context.Context, selector string) error {
	_, err := a.Eval(ctx, onElement(selector, `
  if (typeof el.focus === "function") el.focus();
  const init = {key: "Enter", code: "Enter", keyCode: 13, which: 13, charCode: 0, bubbles: true, cancelable: true};
  const down = el.dispatchEvent(new KeyboardEvent("keydown", init));
  const press = down && el.dispatchEvent(new KeyboardEvent("keypress", {...init, charCode: 13}));
  el.dispatchEvent(new KeyboardEvent("keyup", init));
  if (down && press && el instanceof HTMLInputElement && el.form) el.form.requestSubmit();
  return true;`))
	return err
}

// ArtifactDir returns a directory for files a test keeps after it ends (screenshots, app logs),
// creating it: $HEARTH_ARTIFACTS/<name> when that variable is set (CI collects it), otherwise
// <repo>/tests/artifacts/<name>, which .gitignore excludes. The repository is found by walking
// up from the working directory to the go.mod of module hearth.
func ArtifactDir(t testing.TB, name string) string {
	t.Helper()
	if name == "" || filepath.IsAbs(name) || strings.Contains(filepath.ToSlash(name), "..") {
		t.Fatalf("desktopdrv: artifact name %q must be a relative path without ..", name)
	}
	base := os.Getenv("HEARTH_ARTIFACTS")
	if base == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatalf("desktopdrv: %v (set HEARTH_ARTIFACTS to choose where artifacts go)", err)
		}
		base = filepath.Join(root, "tests", "artifacts")
	}
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("desktopdrv: %v", err)
	}
	return dir
}

// repoRoot finds the directory whose go.mod declares module hearth.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for i := 0; i < 64; i++ { // bounded: a path has far fewer components
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == "hearth" {
					return dir, nil
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("no go.mod of module hearth above the working directory")
}
