import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { networkFileSystemName, networkFileSystemWarning } from '../../core/store/database-file.js';
import { isStorageFault } from '../../core/store/storage-fault.js';

const sqliteError = (code: string) => Object.assign(new Error(code), { code });

describe('storage: telling the storage from the write', () => {
  it('counts disk full, I/O errors, read-only files and held locks (extended codes too) as the storage failing', () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'SQLITE_READONLY', 'SQLITE_READONLY_DIRECTORY', 'SQLITE_CANTOPEN', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_NOMEM']) {
      expect(isStorageFault(sqliteError(code)), code).to.equal(true);
    }
  });

  it('counts a constraint, a bad statement or a non-SQLite error as the write failing, not the storage', () => {
    for (const error of [sqliteError('SQLITE_CONSTRAINT_PRIMARYKEY'), sqliteError('SQLITE_ERROR'), sqliteError('SQLITE_FULLNESS'), new Error('SQLITE_FULL'), 'SQLITE_FULL', null]) {
      expect(isStorageFault(error), String((error as { code?: string } | null)?.code ?? error)).to.equal(false);
    }
  });
});

describe('storage: a database on a network file system', () => {
  it('recognises nfs, smb/cifs and fuse by their statfs type, also when it arrives as a negative number', () => {
    expect(networkFileSystemName(0x6969)).to.equal('nfs');
    expect(networkFileSystemName(0xff534d42)).to.equal('cifs');
    expect(networkFileSystemName(0xff534d42 | 0)).to.equal('cifs');
    expect(networkFileSystemName(0x65735546)).to.equal('fuse');
  });

  it('says nothing for local file systems (ext4, tmpfs, overlayfs, xfs, btrfs)', () => {
    for (const type of [0xef53, 0x01021994, 0x794c7630, 0x58465342, 0x9123683e]) expect(networkFileSystemName(type)).to.equal(null);
    expect(networkFileSystemWarning(path.join(os.tmpdir(), 'taskdeck.db'))).to.equal(null);
    expect(networkFileSystemWarning(':memory:')).to.equal(null);
  });
});
