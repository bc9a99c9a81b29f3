// OneRoster test packages: CSV files written from row objects, as a directory or a zip (JSZip),
// the shared sample sets (read in place), and the CLI arguments that reach a test server's
// database on either backend.
import fs from 'node:fs';
import path from 'node:path';
import JSZip from 'jszip';
import { REPO, PG_BASE } from './server.mjs';

/* The normative columns of each file (§1.6), in order. */
export const COLUMNS = {
  orgs: ['sourcedId', 'status', 'dateLastModified', 'name', 'type', 'identifier', 'parentSourcedId'],
  academicSessions: ['sourcedId', 'status', 'dateLastModified', 'title', 'type', 'startDate', 'endDate',
    'parentSourcedId', 'schoolYear'],
  courses: ['sourcedId', 'status', 'dateLastModified', 'schoolYearSourcedId', 'title', 'courseCode', 'grades',
    'orgSourcedId', 'subjects', 'subjectCodes'],
  classes: ['sourcedId', 'status', 'dateLastModified', 'title', 'grades', 'courseSourcedId', 'classCode',
    'classType', 'location', 'schoolSourcedId', 'termSourcedIds', 'subjects', 'subjectCodes', 'periods'],
  users: ['sourcedId', 'status', 'dateLastModified', 'enabledUser', 'orgSourcedIds', 'role', 'username', 'userIds',
    'givenName', 'familyName', 'middleName', 'identifier', 'email', 'sms', 'phone', 'agentSourcedIds', 'grades',
    'password'],
  demographics: ['sourcedId', 'status', 'dateLastModified', 'birthDate', 'sex', 'americanIndianOrAlaskaNative',
    'asian', 'blackOrAfricanAmerican', 'nativeHawaiianOrOtherPacificIslander', 'white',
    'demographicRaceTwoOrMoreRaces', 'hispanicOrLatinoEthnicity', 'countryOfBirthCode',
    'stateOfBirthAbbreviation', 'cityOfBirth', 'publicSchoolResidenceStatus'],
  enrollments: ['sourcedId', 'status', 'dateLastModified', 'classSourcedId', 'schoolSourcedId', 'userSourcedId',
    'role', 'primary', 'beginDate', 'endDate'],
};
const ALL_FILES = ['academicSessions', 'categories', 'classes', 'classResources', 'courses', 'courseResources',
  'demographics', 'enrollments', 'lineItems', 'orgs', 'resources', 'results', 'users'];

function cell(v) {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * The files of a package: {name: text}. files maps a file name (orgs, users...) to
 * {mode: 'bulk'|'delta', rows: [{column: value}], extra: ['metadata.x', ...]}. In delta files
 * every row gets status active and a dateLastModified unless it sets its own.
 */
export function packageFiles(files) {
  const out = {};
  const manifest = ['propertyName,value', 'manifest.version,1.0', 'oneroster.version,1.1'];
  for (const f of ALL_FILES) manifest.push(`file.${f},${files[f] ? files[f].mode : 'absent'}`);
  out['manifest.csv'] = `${manifest.join('\n')}\n`;
  for (const [name, spec] of Object.entries(files)) {
    const cols = [...COLUMNS[name], ...(spec.extra || [])];
    const lines = [cols.join(',')];
    for (const row of spec.rows) {
      const r = { ...row };
      if (spec.mode === 'delta') {
        r.status ??= 'active';
        r.dateLastModified ??= '2026-11-01T08:00:00Z';
      }
      lines.push(cols.map((c) => cell(r[c])).join(','));
    }
    out[`${name}.csv`] = `${lines.join('\n')}\n`;
  }
  return out;
}

/** Writes the package into dir (created). */
export function writePackageDir(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(packageFiles(files))) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** The package as zip bytes. */
export async function packageZip(files) {
  const zip = new JSZip();
  for (const [name, text] of Object.entries(packageFiles(files))) zip.file(name, text);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** The files of a zip (or a directory) as {name: text}. */
export async function readPackage(zipOrDir) {
  if (typeof zipOrDir === 'string' && fs.statSync(zipOrDir).isDirectory()) {
    return Object.fromEntries(fs.readdirSync(zipOrDir).map((n) => [n, fs.readFileSync(path.join(zipOrDir, n), 'utf8')]));
  }
  const bytes = typeof zipOrDir === 'string' ? fs.readFileSync(zipOrDir) : zipOrDir;
  const zip = await JSZip.loadAsync(bytes);
  const out = {};
  for (const name of Object.keys(zip.files)) out[name] = await zip.file(name).async('string');
  return out;
}

/** Parses a CSV text the way our exports write it (RFC 4180, no line breaks in fields). */
export function parseCsv(text) {
  const rows = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const row = [];
    let i = 0;
    while (i <= line.length) {
      if (line[i] === '"') {
        let v = '';
        i++;
        for (;;) {
          if (line[i] === '"' && line[i + 1] === '"') { v += '"'; i += 2; } else if (line[i] === '"') { i++; break; } else { v += line[i++]; }
        }
        row.push(v);
        i++;
      } else {
        const j = line.indexOf(',', i);
        const end = j < 0 ? line.length : j;
        row.push(line.slice(i, end));
        i = end + 1;
      }
    }
    rows.push(row);
  }
  const [header, ...data] = rows;
  return { header, rows: data.map((r) => Object.fromEntries(header.map((h, k) => [h, r[k]]))) };
}

/** The shared sample sets, read in place (never copied into the repository). */
export function samplesDir() {
  const candidates = [];
  if (process.env.EDUBRAIN_SHARED) candidates.push(path.join(process.env.EDUBRAIN_SHARED, 'oneroster-samples'));
  candidates.push(path.join(REPO, '..', 'shared', 'oneroster-samples'), '/work/shared/oneroster-samples');
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) console.log(`skipped: samples not found at ${candidates.join(', ')}`);
  return found;
}

/** The --db (and --key-file) arguments of the CLI for a test server's database. */
export function dbArgs(srv) {
  return PG_BASE ? ['--db', srv.db, '--key-file', path.join(srv.dir, 'city.key')] : ['--db', srv.db];
}
