package approval

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// SidecarSuffix is appended to a plan's path to name its approval file.
const SidecarSuffix = ".approval.json"

// SidecarPath returns the approval file path for the plan at planPath.
func SidecarPath(planPath string) string { return planPath + SidecarSuffix }

// Save writes a as the sidecar of the plan at planPath, atomically, replacing any earlier
// approval. It returns the sidecar path.
func Save(planPath string, a *Approval) (string, error) {
	path := SidecarPath(planPath)
	data, err := a.Marshal()
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(path, data, 0o644); err != nil {
		return "", fmt.Errorf("save approval: %w", err)
	}
	return path, nil
}

// Load reads the sidecar approval of the plan at planPath. A missing file is a
// *RefusalError with ReasonNone; an unreadable one is a plain error; a corrupt one is a
// *RefusalError with ReasonMalformed.
func Load(planPath string) (*Approval, error) {
	path := SidecarPath(planPath)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, refuse(ReasonNone, "no %s; run: fix8524 approve %s --by NAME", filepath.Base(path), planPath)
	}
	if err != nil {
		return nil, fmt.Errorf("read approval: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read approval %s: %w", path, err)
	}
	a, err := Parse(data)
	if err != nil {
		var r *RefusalError
		if errors.As(err, &r) {
			r.Detail = path + ": " + r.Detail
		}
		return nil, err
	}
	return a, nil
}

// writeFileAtomic writes data to a temporary file in path's directory, syncs it and renames
// it over path, so a reader sees the old file or the new one, never half of one.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil { // make the rename durable where directories can be synced
		_ = d.Sync()
		d.Close()
	}
	return nil
}
