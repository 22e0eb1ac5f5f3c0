//! Listing, reading, deleting and pruning snapshots.

use lockstep_snapshot::{DEFAULT_KEEP, ErrorKind, delete, list, prune, snapshot};

use crate::{fixture, id};

#[test]
fn prune_keeps_the_newest_n() {
    // (snapshots taken, keep, ids left)
    let cases: &[(i64, usize, &[i64])] = &[
        (0, 5, &[]),
        (3, 5, &[0, 1, 2]),
        (7, DEFAULT_KEEP, &[2, 3, 4, 5, 6]),
        (4, 1, &[3]),
        (3, 0, &[]),
    ];
    for (taken, keep, left) in cases {
        let (repo, store) = fixture();
        // Taken newest-id-first so that creation order, not id order, decides.
        for n in 0..*taken {
            repo.write("counter.txt", n.to_string());
            repo.commit_all(&format!("commit {n}"));
            snapshot(repo.path(), &id(100 - n), &["Cargo.lock"], &store).expect("snapshot");
        }
        let pruned = prune(repo.path(), &store, *keep).expect("prune");
        assert_eq!(
            pruned.len(),
            (*taken as usize).saturating_sub(*keep),
            "{taken}/{keep}"
        );
        let ids: Vec<_> = list(repo.path(), &store)
            .expect("list")
            .into_iter()
            .map(|s| s.id)
            .collect();
        let expected: Vec<_> = left.iter().map(|n| id(100 - n)).collect();
        assert_eq!(ids, expected, "{taken}/{keep}");
        let refs = repo.git(&[
            "for-each-ref",
            "--format=%(refname)",
            "refs/lockstep/snapshots",
        ]);
        assert_eq!(refs.lines().count(), left.len(), "{taken}/{keep}: {refs}");
        let dirs = std::fs::read_dir(&store).map(|d| d.count()).unwrap_or(0);
        assert_eq!(dirs, left.len(), "{taken}/{keep}: stored copies removed");
    }
}

#[test]
fn prune_removes_leftovers_of_interrupted_snapshots() {
    let (repo, store) = fixture();
    snapshot(repo.path(), &id(0), &[] as &[&str], &store).expect("snapshot");
    snapshot(repo.path(), &id(1), &[] as &[&str], &store).expect("snapshot");
    // A crash between writing the record and creating the ref leaves a record without a ref.
    repo.git(&["update-ref", "-d", &id(1).ref_name()]);
    // And a ref without a record.
    repo.git(&["update-ref", "refs/lockstep/snapshots/stray", "HEAD"]);

    assert_eq!(
        list(repo.path(), &store).expect("list").len(),
        1,
        "only complete snapshots are listed"
    );
    let pruned = prune(repo.path(), &store, 5).expect("prune");
    let names: Vec<_> = pruned.iter().map(|i| i.as_str().to_owned()).collect();
    assert_eq!(names, vec!["stray".to_owned(), id(1).to_string()]);
    assert_eq!(
        repo.git(&["for-each-ref", "--format=%(refname)", "refs/lockstep"]),
        id(0).ref_name()
    );
    assert!(!store.join(id(1).as_str()).exists());
}

#[test]
fn delete_removes_ref_and_copies() {
    let (repo, store) = fixture();
    snapshot(repo.path(), &id(0), &["Cargo.lock"], &store).expect("snapshot");
    delete(repo.path(), &id(0), &store).expect("delete");
    assert_eq!(repo.git(&["for-each-ref", "refs/lockstep"]), "");
    assert!(!store.join(id(0).as_str()).exists());
    assert_eq!(
        delete(repo.path(), &id(0), &store)
            .expect_err("gone")
            .kind(),
        ErrorKind::NotFound
    );
    assert!(list(repo.path(), &store).expect("list").is_empty());
}

#[test]
fn a_corrupt_record_is_reported_with_its_path() {
    let (repo, store) = fixture();
    snapshot(repo.path(), &id(0), &[] as &[&str], &store).expect("snapshot");
    let record = store.join(id(0).as_str()).join("snapshot.json");
    std::fs::write(&record, "{not json").expect("corrupt");
    let err = lockstep_snapshot::read(&store, &id(0)).expect_err("corrupt");
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(
        err.to_string().contains(&record.display().to_string()),
        "{err}"
    );
}
