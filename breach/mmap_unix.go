//go:build unix

package breach

import (
	"os"
	"syscall"
)

// mapFile maps the first size bytes of file read-only. The mapping
// outlives the file descriptor; release unmaps it.
func mapFile(file *os.File, size int) (data []byte, release func() error, err error) {
	data, err = syscall.Mmap(int(file.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, &os.PathError{Op: "mmap", Path: file.Name(), Err: err}
	}
	return data, func() error { return syscall.Munmap(data) }, nil
}
