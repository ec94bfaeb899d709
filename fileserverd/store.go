package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// tempPrefix starts the name of every upload in progress. Client names
// cannot start with '.', so temporary files never collide with them, and
// LIST never shows them.
const tempPrefix = ".upload-"

// store is the storage directory. Every access goes through an os.Root, so
// no name, link or race can reach outside it.
type store struct {
	root      *os.Root
	hardLinks bool // serve files with more than one link (-serve-hard-links)
}

// openStore opens the storage directory, creating it if missing. Its path
// is looked up here, once: from then on the process, its worker children
// (see inheritStore) and the clean-up of their temporary files all use
// the directory opened here, even if the path is later made to name
// another directory (a symbolic link repointed, a directory renamed).
func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage directory: %w", err)
	}
	return &store{root: root}, nil
}

// file opens the storage directory itself, for a worker child to inherit.
func (s *store) file() (*os.File, error) { return s.root.Open(".") }

// inheritStore opens the storage directory a process-mode parent handed
// down as file descriptor fd: the open directory itself, not the path it
// was opened by (inheritedRoot), so the child gets the parent's directory
// whatever the path names now.
func inheritStore(fd uintptr) (*store, error) {
	f := os.NewFile(fd, "storage directory")
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("storage directory: fd %d is not a directory (%v)", fd, err)
	}
	root, err := inheritedRoot(fd)
	if err != nil {
		return nil, fmt.Errorf("storage directory from fd %d: %w", fd, err)
	}
	return &store{root: root}, nil
}

func (s *store) Close() error { return s.root.Close() }

// errNotFound is a name that is not a stored regular file.
var errNotFound = errors.New("no such file")

// errNotRegular is a name that is not a regular file: a FIFO, a device,
// a directory, or a link to one.
var errNotRegular = errors.New("not a regular file: only regular files are served")

// errOutsideLink is a symbolic link that leads out of the storage
// directory, or round in a loop: os.Root refuses to follow it.
var errOutsideLink = errors.New("a symbolic link that leads outside the storage directory is not served")

// errHardLinked is a regular file with other names, perhaps outside the
// storage directory: os.Root stops symbolic links, not hard links.
var errHardLinked = errors.New("the file has other hard links, perhaps outside the storage directory, so it is not served (-serve-hard-links allows it)")

// open opens a stored file for reading. The open file keeps its content
// even if the name is overwritten or deleted meanwhile, because uploads
// replace files by rename and never write into them. It opens without
// blocking, so a FIFO dropped in the directory cannot hold a worker in
// open() until a writer comes; only regular files are served, and those
// with more than one link only when s.hardLinks allows.
func (s *store) open(name string) (*os.File, error) {
	f, err := s.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errNotFound
		}
		if st, lerr := s.root.Lstat(name); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
			return nil, errOutsideLink
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, errNotRegular
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Nlink > 1 && !s.hardLinks {
		f.Close()
		return nil, errHardLinked
	}
	return f, nil
}

// remove deletes a stored regular file. Once the name is gone, it is
// gone: a failure to sync the directory after it is returned as unsynced,
// for a warning, not as err.
func (s *store) remove(name string) (unsynced, err error) {
	st, err := s.root.Lstat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errNotFound
		}
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errNotFound
	}
	if err := s.root.Remove(name); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errNotFound
		}
		return nil, err
	}
	return s.syncDir(), nil
}

func (s *store) syncDir() error {
	d, err := s.root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writebackChunk is how much an upload writes before it asks the kernel to
// start writing it to disk, so that the fsync before the OK reply finds
// little left to do instead of the whole file.
const writebackChunk = 8 << 20

// pendingUpload is an upload being written to a temporary file.
type pendingUpload struct {
	s        *store
	f        *os.File
	temp     string
	written  int64
	flushing int64 // bytes whose writeback has been started
}

// create starts an upload. The temporary name carries the pid, so that a
// supervisor can remove what a killed child left (removeTemps).
func (s *store) create() (*pendingUpload, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	temp := tempPrefix + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(rnd[:]) + ".tmp"
	f, err := s.root.OpenFile(temp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	return &pendingUpload{s: s, f: f, temp: temp}, nil
}

func (u *pendingUpload) Write(p []byte) (int, error) {
	n, err := u.f.Write(p)
	u.written += int64(n)
	if u.written-u.flushing >= writebackChunk {
		// Best effort: where the call is missing, the fsync does it all.
		startWriteback(u.f, u.flushing, u.written-u.flushing)
		u.flushing = u.written
	}
	return n, err
}

// commit makes the upload durable and visible under name, atomically
// replacing any previous version. Once the rename is done the file is
// stored, whatever follows: a failure to sync the directory after it is
// returned as unsynced, for a warning, not as err, so that the client is
// not told ERROR about a file that is in place.
func (u *pendingUpload) commit(name string) (unsynced, err error) {
	err = syncData(u.f)
	if cerr := u.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = u.s.root.Rename(u.temp, name)
	}
	if err != nil {
		u.s.root.Remove(u.temp)
		return nil, err
	}
	return u.s.syncDir(), nil
}

// abort discards the upload.
func (u *pendingUpload) abort() {
	u.f.Close()
	u.s.root.Remove(u.temp)
}

// removeTemps deletes temporary files left by process pid, or by any
// process when pid is 0 (at startup, when nothing else runs).
func (s *store) removeTemps(pid int) (int, error) {
	d, err := s.root.Open(".")
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return 0, err
	}
	prefix := tempPrefix
	if pid != 0 {
		prefix += strconv.Itoa(pid) + "-"
	}
	n := 0
	for _, name := range names {
		if strings.HasPrefix(name, prefix) && strings.HasSuffix(name, ".tmp") {
			if s.root.Remove(name) == nil {
				n++
			}
		}
	}
	return n, nil
}
