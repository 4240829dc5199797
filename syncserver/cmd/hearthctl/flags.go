package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// flagSet is a subcommand's flags with its help text.
type flagSet struct {
	*flag.FlagSet
	c    *cli
	help string // synopsis and description, printed above the flags
}

func (c *cli) flags(name, help string) *flagSet {
	fs := flag.NewFlagSet("hearthctl "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // a mistake gets one line; --help prints the whole text
	return &flagSet{FlagSet: fs, c: c, help: help}
}

func (fs *flagSet) printHelp() {
	w := fs.c.stdout
	fmt.Fprint(w, strings.TrimLeft(fs.help, "\n"))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprint(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parse parses flags wherever they appear among the arguments (so that
// "put patients new name=Ada --dir r" works) and returns the positional arguments.
// Arguments after "--" are all positional.
func (fs *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.printHelp()
				return nil, err
			}
			return nil, &usageError{fmt.Errorf("%s: %w (see %s --help)", fs.Name(), err, fs.Name())}
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// envOr returns the environment variable's value, or def when it is unset or empty.
func (c *cli) envOr(name, def string) string {
	if v := c.getenv(name); v != "" {
		return v
	}
	return def
}

// given reports which flags were set on the command line.
func (fs *flagSet) given() map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}
