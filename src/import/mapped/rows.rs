//! Rows of a mapped file: an Application row into its user, groups, roles
//! and typed properties, an HRIS row into its employee, and the reader that
//! refuses a file with empty required cells before merging anything.
use super::columns::*;
use super::*;
use crate::model::{EmployeeAttribute, EmployeeValue};

/// What one accepted row says, before it is merged.
#[derive(Default)]
pub(super) struct RowData {
    pub(super) line: u64,
    pub(super) user: Option<User>,
    pub(super) groups: Vec<(String, String)>,
    pub(super) roles: Vec<(String, String)>,
    pub(super) permissions: Vec<String>,
    /// Typed properties of the row's user, groups and roles: `(entity,
    /// name, custom, value)`, in mapping order.
    pub(super) properties: Vec<(EntityType, String, bool, RawValue)>,
    pub(super) employee: Option<EmployeeRow>,
}

/// What one HRIS row says about its employee.
pub(super) struct EmployeeRow {
    pub(super) id: String,
    pub(super) name: String,
    /// `(name, text, typed value)`, in mapping order.
    pub(super) attributes: Vec<(String, String, EmployeeValue)>,
    pub(super) managers: Vec<String>,
}

pub(super) fn parse_employee(
    columns: &[Resolved],
    cells: &[&str],
    line: u64,
) -> Result<RowData, RowError> {
    let (mut id, mut name) = (String::new(), String::new());
    let mut attributes = Vec::new();
    let mut managers = Vec::new();
    for c in columns {
        let v = c.value(cells)?;
        let column = c.column();
        if let Some((custom, ty)) = &c.custom {
            if let Some(value) = custom_value(c, custom, *ty, v)? {
                attributes.push((custom.clone(), value.to_text(), EmployeeValue::Text));
            }
            continue;
        }
        let Some(a) = c.attribute else { continue };
        match a {
            Attribute::Id => id = v,
            Attribute::Name => name = v,
            // reference/veza-csv-upload.md: manager references are compared
            // with employee ids in lowercase.
            Attribute::Managers => {
                managers = list(&v).into_iter().map(str::to_lowercase).collect();
            }
            Attribute::IsActive if !v.is_empty() => {
                let active = parse_reference_bool(&v);
                attributes.push((a.name(), active.to_string(), EmployeeValue::Bool(active)));
            }
            a if a.is_timestamp() => {
                let ts = parse_reference_timestamp(&v).map_err(|()| {
                    (
                        column,
                        RejectKind::BadTimestamp,
                        format!("{} {} is not a timestamp", c.header, excerpt(&v)),
                    )
                })?;
                if let Some(ts) = ts {
                    let text = crate::import::format_timestamp(ts);
                    attributes.push((a.name(), text, EmployeeValue::Timestamp(ts)));
                }
            }
            a if !v.is_empty() => attributes.push((a.name(), v, EmployeeValue::Text)),
            _ => {}
        }
    }
    if id.is_empty() && name.is_empty() {
        return Err((
            1,
            RejectKind::EmptyRequired,
            "the row gives neither the employee's id nor its name".into(),
        ));
    }
    if id.is_empty() {
        id = name.clone();
    } else if name.is_empty() {
        name = id.clone();
    }
    Ok(RowData {
        line,
        employee: Some(EmployeeRow {
            id,
            name,
            attributes,
            managers,
        }),
        ..RowData::default()
    })
}

/// Adds an employee; the caller has checked that no earlier row named it
/// (ids compared lowercase): the first row wins.
pub(super) fn add_employee(imp: &mut Importer, e: &EmployeeRow, source: Sym, at: Provenance) {
    let employee = crate::model::Employee {
        source,
        id: imp.intern(&e.id),
        name: imp.intern(&e.name),
        attributes: e
            .attributes
            .iter()
            .map(|(k, v, value)| EmployeeAttribute {
                name: imp.model.strings.intern(k),
                text: imp.model.strings.intern(v),
                value: *value,
            })
            .collect(),
        managers: e.managers.iter().map(|m| imp.intern(m)).collect(),
        origin: at,
    };
    imp.model.employees.push(employee);
}

/// One line for the import report: employees, manager links resolved (ids
/// compared lowercase) and manager references that match no employee.
pub fn describe_employees(model: &crate::model::Model) -> String {
    // The links `manager of` and `--by manager` walk, counted the same way.
    let links = crate::people::ManagerLinks::new(model);
    let linked = links.count();
    let mut s = format!(
        "employees: {} ({linked} manager link{})",
        model.employees.len(),
        if linked == 1 { "" } else { "s" }
    );
    let own = links.self_managed_count();
    if own > 0 {
        s.push_str(&format!(
            "\n  naming themselves as their manager (no link): {own}"
        ));
    }
    if !links.unknown.is_empty() {
        s.push_str(&format!(
            "\n  managers matching no employee: {}",
            crate::import::quote_list(&links.unknown)
        ));
    }
    s
}

#[derive(Default)]
pub(super) struct User {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) active: Option<bool>,
    pub(super) last_login: Option<i64>,
    pub(super) password_changed: Option<i64>,
}

/// Pairs ids with names; with only one of them it serves as both.
pub(super) fn identify(ids: &str, names: &str, is_list: bool) -> Vec<(String, String)> {
    let split = |s: &str| -> Vec<String> {
        if is_list {
            list(s).into_iter().map(String::from).collect()
        } else if s.is_empty() {
            Vec::new()
        } else {
            vec![s.to_string()]
        }
    };
    let (ids, names) = (split(ids), split(names));
    match (ids.is_empty(), names.is_empty()) {
        (true, true) => Vec::new(),
        (false, true) => ids.into_iter().map(|i| (i.clone(), i)).collect(),
        (true, false) => names.into_iter().map(|n| (n.clone(), n)).collect(),
        (false, false) => ids
            .iter()
            .enumerate()
            .map(|(k, id)| (id.clone(), names.get(k).unwrap_or(id).clone()))
            .collect(),
    }
}

pub(super) fn parse_row(
    columns: &[Resolved],
    cells: &[&str],
    line: u64,
) -> Result<RowData, RowError> {
    let mut row = RowData {
        line,
        ..RowData::default()
    };
    let mut user = User::default();
    let mut user_extra: Option<usize> = None;
    let (mut group_id, mut group_name, mut role_id, mut role_name) =
        (String::new(), String::new(), String::new(), String::new());
    for c in columns {
        let v = c.value(cells)?;
        let column = c.column();
        let has_cell = !cells.get(c.index).is_none_or(|s| s.trim().is_empty());
        if let Some((name, ty)) = &c.custom {
            if let Some(value) = custom_value(c, name, *ty, v)? {
                // A static value describes every row's user, if any.
                if c.entity == EntityType::User && has_cell {
                    user_extra.get_or_insert(column);
                }
                row.properties.push((c.entity, name.clone(), true, value));
            }
            continue;
        }
        let Some(a) = c.attribute else { continue };
        let mut ts = None;
        if a.is_timestamp() {
            ts = parse_reference_timestamp(&v).map_err(|()| {
                (
                    column,
                    RejectKind::BadTimestamp,
                    format!(
                        "{} {} is not a timestamp (e.g. 2006-01-02T15:04:05Z, 20060102150405, 1/2/2006)",
                        c.header,
                        excerpt(&v)
                    ),
                )
            })?;
        }
        match (c.entity, a) {
            (EntityType::User, Attribute::Id) => user.id = v,
            (EntityType::User, Attribute::Name) => user.name = v,
            (EntityType::User, Attribute::Email) => user.email = v,
            // reference: anything but the true tokens is false; an empty cell
            // says nothing.
            (EntityType::User, Attribute::IsActive) if !v.is_empty() => {
                user.active = Some(parse_reference_bool(&v));
            }
            (EntityType::User, Attribute::LastLoginAt) => user.last_login = ts,
            (EntityType::User, Attribute::PasswordLastChangedAt) => user.password_changed = ts,
            (EntityType::Group, Attribute::Id) => group_id = v,
            (EntityType::Group, Attribute::Name) => group_name = v,
            (EntityType::Role, Attribute::Id) => role_id = v,
            (EntityType::Role, Attribute::Name) => role_name = v,
            (EntityType::Role, Attribute::Permissions) => {
                row.permissions = list(&v).into_iter().map(String::from).collect();
            }
            // The template attributes the 19-column model has no field for
            // (created / deactivated times, owner) are typed properties.
            (entity, a) => {
                let value = match ts {
                    Some(t) => Some(RawValue::Timestamp(t)),
                    None if a.is_timestamp() || v.is_empty() => None,
                    None => Some(RawValue::Text(v)),
                };
                if let Some(value) = value {
                    row.properties.push((entity, a.name(), false, value));
                }
            }
        }
        if c.entity == EntityType::User && !matches!(a, Attribute::Id | Attribute::Name) && has_cell
        {
            user_extra.get_or_insert(column);
        }
    }
    if user.id.is_empty() && user.name.is_empty() {
        if let Some(column) = user_extra {
            return Err((
                column,
                RejectKind::EmptyRequired,
                "the row describes a user but gives neither its id nor its name".into(),
            ));
        }
    } else {
        if user.id.is_empty() {
            user.id = user.name.clone();
        } else if user.name.is_empty() {
            user.name = user.id.clone();
        }
        row.user = Some(user);
    }
    // reference: group and role names support list format; ids follow.
    row.groups = identify(&group_id, &group_name, true);
    row.roles = identify(&role_id, &role_name, true);
    Ok(row)
}

impl Importer {
    /// Imports one CSV file (`-`: stdin) read through a mapping. A file that
    /// cannot be read through the mapping is recorded as refused and returned
    /// as the error; the importer stays usable.
    pub fn import_mapped(
        &mut self,
        path: &Path,
        mapping: &Mapping,
        opts: &FileOptions,
    ) -> Result<(), ImportError> {
        if path == Path::new("-") {
            return self.import_mapped_reader(path, std::io::stdin().lock(), mapping, opts);
        }
        match std::fs::File::open(path) {
            Ok(file) => self.import_mapped_reader(path, file, mapping, opts),
            Err(source) => {
                let err = ImportError::Io {
                    path: path.to_path_buf(),
                    source,
                };
                let opts = FileOptions {
                    source: opts.source.clone().or_else(|| mapping.source.clone()),
                };
                self.record_unreadable(path, &opts, &err);
                Err(err)
            }
        }
    }

    /// Imports a CSV from any reader (stdin: `path` is `-`) through a
    /// mapping; the source defaults to the mapping's, else `path`'s stem
    /// (`stdin` for `-`).
    pub fn import_mapped_reader<R: Read>(
        &mut self,
        path: &Path,
        reader: R,
        mapping: &Mapping,
        opts: &FileOptions,
    ) -> Result<(), ImportError> {
        let source_name = opts
            .source
            .clone()
            .or_else(|| mapping.source.clone())
            .unwrap_or_else(|| default_source(path));
        self.read_file(
            path,
            source_name,
            reader,
            |imp, input, file, source, report| {
                read(imp, input, path, mapping, file, source, report)
            },
        )
    }
}

pub(super) fn read<R: Read>(
    imp: &mut Importer,
    reader: R,
    path: &Path,
    mapping: &Mapping,
    file: u32,
    source: Sym,
    report: &mut FileReport,
) -> Result<(), ImportError> {
    let mut csv = Records::new(reader);
    let records_error = |e| ImportError::records(path, e);
    let mut record = Record::new();
    let mut headers: Vec<String> = Vec::new();
    // Lowercase header to its column: one lookup per header, however wide
    // the file.
    let mut seen: rustc_hash::FxHashMap<String, usize> = Default::default();
    let header_line = crate::import::records::read_header(
        &mut csv,
        &mut record,
        |e| ImportError::header(path, e),
        |line, i, text| {
            let text = text.trim().to_string();
            // reference/veza-csv-upload.md: headers must be unique regardless
            // of case; the import fails otherwise.
            if let Some(&first) = seen.get(&text.to_lowercase()) {
                return Err(ImportError::DuplicateHeader {
                    path: path.to_path_buf(),
                    line,
                    column: i + 1,
                    name: text,
                    first_column: first + 1,
                    first: headers[first].clone(),
                });
            }
            seen.insert(text.to_lowercase(), i);
            headers.push(text);
            Ok(())
        },
    )?;
    if headers.len() == 1 && headers[0].is_empty() {
        return Err(ImportError::Empty {
            path: path.to_path_buf(),
        });
    }
    let columns = resolve(mapping, &seen, path, header_line)?;
    // A column read only through another's `combine` is used, not ignored.
    let mut mapped: BTreeSet<usize> = columns.iter().map(|c| c.index).collect();
    for c in &columns {
        for step in &c.steps {
            if let Step::Combine(idx, _) = step {
                mapped.extend(idx);
            }
        }
    }
    let ignored: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| !mapped.contains(i))
        .map(|(_, h)| h.clone())
        .collect();
    if !ignored.is_empty() {
        report.warnings.push(format!(
            "ignored {} unmapped column{}: {}",
            ignored.len(),
            if ignored.len() == 1 { "" } else { "s" },
            crate::import::excerpt_list(&ignored)
        ));
    }

    // First pass: parse every row, so a required column empty anywhere
    // refuses the file before anything is merged.
    let mut rows: Vec<Result<RowData, Rejection>> = Vec::new();
    let mut empty_required: Vec<(String, u64)> = Vec::new();
    loop {
        let next = csv.read(&mut record).map_err(records_error)?;
        let line = record.line();
        let rejection = |(column, kind, reason): RowError| Rejection {
            file: path.to_path_buf(),
            line,
            column,
            kind,
            reason,
            record: crate::import::records::raw_excerpt(&record),
        };
        match next {
            Next::End => break,
            Next::TooLong(t) => {
                rows.push(Err(rejection((
                    t.column,
                    RejectKind::RecordTooLong,
                    t.reason(),
                ))));
                continue;
            }
            Next::Record => {}
        }
        if record.len() != headers.len() {
            rows.push(Err(rejection((
                record.len().min(headers.len()) + 1,
                RejectKind::FieldCount,
                format!(
                    "row has {} field{}, the header has {}",
                    record.len(),
                    if record.len() == 1 { "" } else { "s" },
                    headers.len()
                ),
            ))));
            continue;
        }
        let mut cells = Vec::with_capacity(record.len());
        let mut bad = None;
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) if s.len() > MAX_CELL_BYTES => {
                    bad = Some((
                        i + 1,
                        RejectKind::CellTooLong,
                        format!("{} is longer than {MAX_CELL_BYTES} bytes", headers[i]),
                    ));
                    break;
                }
                Ok(s) => cells.push(s),
                Err(_) => {
                    bad = Some((
                        i + 1,
                        RejectKind::Encoding,
                        format!("{} is not valid UTF-8", headers[i]),
                    ));
                    break;
                }
            }
        }
        if let Some(e) = bad {
            rows.push(Err(rejection(e)));
            continue;
        }
        for c in columns.iter().filter(|c| c.required) {
            if c.value(&cells).map(|v| v.is_empty()).unwrap_or(false) {
                empty_required.push((c.header.clone(), line));
            }
        }
        let parsed = match mapping.template {
            Template::Application => parse_row(&columns, &cells, line),
            Template::Hris => parse_employee(&columns, &cells, line),
        };
        rows.push(parsed.map_err(rejection));
    }
    if !empty_required.is_empty() {
        return Err(ImportError::EmptyRequired {
            path: path.to_path_buf(),
            cells: empty_required,
        });
    }

    if mapping.template == Template::Hris {
        let mapped = |a| {
            columns
                .iter()
                .any(|c| c.entity == EntityType::Employee && c.attribute == Some(a))
        };
        if mapped(Attribute::IsActive) && mapped(Attribute::EmploymentStatus) {
            // reference/veza-csv-upload.md: map only one of the two.
            report.warnings.push(
                "both is_active and employment_status are mapped: the reference says to map only one"
                    .into(),
            );
        }
    }
    let application = mapping.application.as_deref().unwrap_or("").trim();
    let mut app = None;
    // Employee ids of this source already known (lowercase): the first row
    // naming an employee wins, across files of one source too.
    let mut employees: std::collections::HashSet<String> = imp
        .model
        .employees
        .iter()
        .filter(|e| e.source == source)
        .map(|e| imp.model.str(e.id).to_lowercase())
        .collect();
    for row in rows {
        report.rows_read += 1;
        let row = match row {
            Ok(row) => row,
            Err(rejection) => {
                imp.reject(rejection, report);
                continue;
            }
        };
        report.rows_accepted += 1;
        let at = Provenance {
            file,
            line: row.line.min(u32::MAX as u64) as u32,
        };
        if let Some(employee) = &row.employee {
            if employees.insert(employee.id.to_lowercase()) {
                add_employee(imp, employee, source, at);
            }
            continue;
        }
        accept(imp, &row, source, application, &mut app, at, report);
    }
    Ok(())
}

pub(super) fn accept(
    imp: &mut Importer,
    row: &RowData,
    source: Sym,
    application: &str,
    app: &mut Option<u32>,
    at: Provenance,
    report: &mut FileReport,
) {
    let declare = |imp: &mut Importer, id: &str, name: &str, kind: Kind, source_type: &str| {
        imp.declare(
            &Declared {
                hashes: None,
                source,
                id,
                name,
                kind,
                source_type,
            },
            at,
        )
    };
    // reference: "properties are set based on the first row where the
    // entity ID appears".
    let properties = |imp: &mut Importer, idx: EntityIdx, entity: EntityType| {
        for (_, name, custom, value) in row.properties.iter().filter(|p| p.0 == entity) {
            let property = Property {
                entity: idx,
                name: imp.intern(name),
                value: value.intern(imp),
                custom: *custom,
            };
            imp.model.properties.push(property);
        }
    };
    let user = row.user.as_ref().map(|u| {
        let (idx, _) = declare(imp, &u.id, &u.name, Kind::Identity, "user");
        if imp.needs_attributes(idx) {
            properties(imp, idx, EntityType::User);
            let attrs = Attributes {
                // The Application template maps no username: only what the
                // mapping maps is stored (issue 14.9), never the display name.
                username: Sym::EMPTY,
                email: imp.intern(crate::import::strip_angle_brackets(&u.email)),
                status: match u.active {
                    Some(true) => imp.intern("active"),
                    Some(false) => imp.intern("inactive"),
                    None => Sym::EMPTY,
                },
                last_login: u.last_login,
                password_changed: u.password_changed,
                ..Attributes::default()
            };
            imp.set_attributes(idx, || attrs);
        }
        idx
    });
    let side = |imp: &mut Importer, list: &[(String, String)], entity: EntityType| {
        list.iter()
            .map(|(id, name)| {
                let (idx, new) = declare(imp, id, name, Kind::Connection, entity.as_str());
                if new {
                    properties(imp, idx, entity);
                }
                imp.set_attributes(idx, Attributes::default);
                idx
            })
            .collect::<Vec<_>>()
    };
    let groups = side(imp, &row.groups, EntityType::Group);
    let roles = side(imp, &row.roles, EntityType::Role);
    let member = imp.intern("member");
    let assigned = imp.intern("assigned");
    let mut related = false;
    if let Some(u) = user {
        for &g in &groups {
            imp.relate(u, g, member, true, at);
            related = true;
        }
        for &r in &roles {
            imp.relate(u, r, assigned, true, at);
            related = true;
        }
    } else {
        // A row without a user assigns its roles to its groups.
        for &g in &groups {
            for &r in &roles {
                imp.relate(g, r, assigned, true, at);
                related = true;
            }
        }
    }
    if !row.permissions.is_empty() && !roles.is_empty() {
        let app = *app.get_or_insert_with(|| {
            let (idx, _) = imp.declare(
                &Declared {
                    hashes: None,
                    source,
                    id: application,
                    name: application,
                    kind: Kind::Resource,
                    source_type: "application",
                },
                at,
            );
            idx
        });
        // reference: role permissions are additive across rows.
        for &r in &roles {
            for p in &row.permissions {
                let p = imp.intern(p);
                imp.relate(r, app, p, true, at);
                related = true;
            }
        }
    }
    if !related {
        report.rows_without_target += 1;
    }
}
