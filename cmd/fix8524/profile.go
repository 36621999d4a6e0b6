package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/profile"
	"github.com/fix8524/fix8524/internal/termtext"
)

func init() {
	register(&command{name: "profile", summary: "write a commented connection profile (profile init), or show the one in use (profile show)", run: runProfile})
}

// profileFlag is --profile FILE: the HCL profile whose settings stand in for the flags not
// given on the command line.
type profileFlag struct{ path string }

func (p *profileFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&p.path, "profile", "", "read connection settings from the HCL profile `FILE` (default: $XDG_CONFIG_HOME/fix8524/profile.hcl or %APPDATA%\\fix8524\\profile.hcl when it exists; none: no profile); flags given on the command line win")
}

// defaultProfilePath is where the profile lives without --profile, from the command's
// environment only.
func defaultProfilePath(e *env) (string, error) {
	const app = "fix8524"
	switch runtime.GOOS {
	case "windows":
		if d := e.getenv("APPDATA"); d != "" {
			return filepath.Join(d, app, profile.FileName), nil
		}
		return "", errors.New("%APPDATA% is not set: give --profile FILE")
	case "darwin", "ios":
		if h := e.getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Application Support", app, profile.FileName), nil
		}
	}
	if d := e.getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, app, profile.FileName), nil
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", app, profile.FileName), nil
	}
	return "", errors.New("no $HOME and no $XDG_CONFIG_HOME: give --profile FILE")
}

// load reads the profile: the one --profile names (which must exist), else the default one if
// it exists; nil for none.
func (p *profileFlag) load(e *env) (*profile.Profile, error) {
	path := p.path
	switch path {
	case "none":
		return nil, nil
	case "":
		def, err := defaultProfilePath(e)
		if err != nil {
			return nil, nil // no default location: no profile
		}
		if _, err := os.Stat(def); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		path = def
	}
	prof, diags := profile.Load(path)
	if diags.HasErrors() {
		return nil, fmt.Errorf("profile %s:\n%s", termtext.Escape(path), strings.TrimRight(policy.FormatDiagnostics(diags), "\n"))
	}
	return prof, nil
}

// apply sets, from the profile, every flag of fl that the command line did not give, skipping
// those skip names. It returns the flags it set.
func (p *profileFlag) apply(e *env, fl *flag.FlagSet, skip ...string) (map[string]bool, error) {
	prof, err := p.load(e)
	if err != nil || prof == nil {
		return nil, err
	}
	given := map[string]bool{}
	fl.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range skip {
		given[s] = true
	}
	set := map[string]bool{}
	for _, s := range prof.Settings {
		name, value := s.Flag, s.Value
		if s.Attr == "bind" {
			if given["kerberos"] || given["ntlm"] || value == "simple" {
				continue
			}
			name, value = value, "true" // kerberos or ntlm
		}
		if given[name] || fl.Lookup(name) == nil {
			continue
		}
		if s.Kind == profile.Path {
			value = profilePath(e, prof.Filename, value)
		}
		if err := fl.Set(name, value); err != nil {
			why := err.Error()
			if _, derr := time.ParseDuration(fl.Lookup(name).DefValue); derr == nil {
				why = "not a duration (write it like \"20s\", \"5m\" or \"1h30m\")"
			}
			return nil, fmt.Errorf("profile %s:%d:%d: %s = %q: %s", termtext.Escape(prof.Filename), s.Range.Start.Line, s.Range.Start.Column, s.Name(), s.Value, termtext.Escape(why))
		}
		set[name] = true
		debugf(e, "profile %s: --%s from %s", prof.Filename, name, s.Name())
	}
	return set, nil
}

// profilePath resolves a path of the profile: ~/ is the home directory, a relative path is
// relative to the profile's directory.
func profilePath(e *env, profileFile, p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if h := e.getenv("HOME"); h != "" {
			return filepath.Join(h, rest)
		}
		if h := e.getenv("USERPROFILE"); h != "" {
			return filepath.Join(h, rest)
		}
		return p
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(profileFile), p)
}

func runProfile(_ context.Context, e *env, args []string) int {
	usage := func() {
		fmt.Fprintln(e.stderr, "Usage: fix8524 profile init [--profile FILE] [--force]   write a commented profile (every setting commented out)")
		fmt.Fprintln(e.stderr, "       fix8524 profile show [--profile FILE]             say which profile is read and what it sets")
		fmt.Fprintln(e.stderr, "\nA profile (HCL) holds the connection settings of gather, plan, apply and heal: the seed DC, user, TLS,")
		fmt.Fprintln(e.stderr, "CA file, WinRM and SSH settings, inventory, state directory. Flags given on the command line win.")
		fmt.Fprintln(e.stderr, "It holds no secrets: a password in it is refused.")
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage()
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	sub := args[0]
	fl := flag.NewFlagSet("profile "+sub, flag.ContinueOnError)
	fl.SetOutput(e.stderr)
	var pf profileFlag
	pf.register(fl)
	force := false
	if sub == "init" {
		fl.BoolVar(&force, "force", false, "overwrite an existing profile")
	}
	fl.Usage = func() {
		usage()
		fmt.Fprintln(e.stderr)
		fl.PrintDefaults()
	}
	if sub != "init" && sub != "show" {
		fmt.Fprintf(e.stderr, "fix8524 profile: unknown subcommand %q (init or show)\n", sub)
		return exitError
	}
	if err := fl.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(e.stderr, "fix8524 profile: unexpected argument %q\n", fl.Arg(0))
		return exitError
	}
	path := pf.path
	if path == "" || path == "none" {
		def, err := defaultProfilePath(e)
		if err != nil {
			fmt.Fprintln(e.stderr, "fix8524 profile:", err)
			return exitError
		}
		path = def
	}
	if sub == "show" {
		prof, err := (&profileFlag{path: pf.path}).load(e)
		switch {
		case err != nil:
			fmt.Fprintln(e.stderr, "fix8524", err)
			return exitError
		case prof == nil:
			fmt.Fprintf(e.stdout, "No profile: %s does not exist (fix8524 profile init writes one).\n", termtext.Escape(path))
			return exitOK
		}
		writeProfile(e.stdout, e, prof)
		return exitOK
	}
	if _, err := os.Stat(path); err == nil && !force {
		fmt.Fprintf(e.stderr, "fix8524 profile: %s exists; not overwriting it (--force replaces it)\n", termtext.Escape(path))
		return exitError
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		fmt.Fprintln(e.stderr, "fix8524 profile:", err)
		return exitError
	}
	if err := os.WriteFile(path, []byte(profile.Template()), 0o600); err != nil {
		fmt.Fprintln(e.stderr, "fix8524 profile:", err)
		return exitError
	}
	fmt.Fprintf(e.stdout, "Wrote %s: every setting commented out. Uncomment what you need; fix8524 profile show says what it sets.\n", termtext.Escape(path))
	return exitOK
}

// writeProfile says what a profile sets, one setting a line with the flag it stands for. The
// profile is a file like any other: its values and its path are escaped.
func writeProfile(w io.Writer, e *env, prof *profile.Profile) {
	fmt.Fprintf(w, "Profile %s:\n", termtext.Escape(prof.Filename))
	if len(prof.Settings) == 0 {
		fmt.Fprintln(w, "  sets nothing (every line is commented out)")
	}
	for _, s := range prof.Settings {
		v := s.Value
		if s.Kind == profile.Path {
			v = profilePath(e, prof.Filename, v)
		}
		flagName := "--" + s.Flag
		if s.Attr == "bind" {
			flagName = "--kerberos/--ntlm"
		}
		fmt.Fprintf(w, "  %-22s %-40s (%s)\n", s.Name(), termtext.Escape(v), flagName)
	}
}
