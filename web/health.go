package web

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/captcha"
)

//go:embed static
var staticFiles embed.FS

// healthz is GET /healthz: the process answers.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writePlain(w, http.StatusOK, "ok")
	return nil
}

// readyz is GET /readyz: the process can serve (its database answers).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready", slog.Any("error", err))
			writePlain(w, http.StatusServiceUnavailable, "unavailable")
			return nil
		}
	}
	writePlain(w, http.StatusOK, "ok")
	return nil
}

func writePlain(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(text + "\n"))
}

// static is GET /static/{file}: the embedded style sheet and other assets.
func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	b, err := fs.ReadFile(staticFiles, "static/"+r.PathValue("file"))
	if r.PathValue("file") == "altcha-solver.js" {
		b, err = captcha.SolverJS(), nil
	}
	if err != nil {
		return mamoru.Errorf(mamoru.ENotFound, "no such static file")
	}
	w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(r.PathValue("file"))))
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
	return nil
}
