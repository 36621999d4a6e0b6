package approval

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/fix8524/fix8524/internal/atomicfile"
	"github.com/fix8524/fix8524/internal/inputfile"
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
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return "", fmt.Errorf("save approval: %w", err)
	}
	return path, nil
}

// Load reads the sidecar approval of the plan at planPath. A missing file is a
// *RefusalError with ReasonNone; an unreadable one is a plain error; a corrupt one is a
// *RefusalError with ReasonMalformed.
func Load(planPath string) (*Approval, error) {
	path := SidecarPath(planPath)
	data, err := inputfile.ReadFile(path, "approval", maxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, refuse(ReasonNone, "no %s; run: fix8524 approve %s --by NAME", filepath.Base(path), planPath)
	}
	if err != nil {
		return nil, fmt.Errorf("read %w", err)
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
