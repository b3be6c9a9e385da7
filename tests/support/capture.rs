//! A `tracing` subscriber that keeps the events it is interested in, with their target,
//! level and fields as text, for tests of what the policies log.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One event as the subscriber saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub target: String,
    pub level: Level,
    /// Each field's value as text; the message is `message`.
    pub fields: BTreeMap<String, String>,
}

impl Captured {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Keeps every event `interested` accepts; shares what it kept through `events`.
#[derive(Clone)]
pub struct Capture {
    interested: fn(&Metadata<'_>) -> bool,
    kept: Arc<Mutex<Vec<Captured>>>,
}

impl Capture {
    pub fn new(interested: fn(&Metadata<'_>) -> bool) -> Self {
        Self {
            interested,
            kept: Arc::default(),
        }
    }

    /// The events kept so far, taken out.
    pub fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.kept.lock().unwrap())
    }

    /// Runs `scenario` to its end on a current-thread runtime whose clock is paused, with
    /// this capture as the subscriber of this thread alone.
    #[allow(dead_code)] // each test binary includes this module; not every one runs scenarios
    pub fn run<T>(&self, scenario: impl std::future::Future<Output = T>) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        tracing::subscriber::with_default(self.clone(), || runtime.block_on(scenario))
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        (self.interested)(metadata)
    }

    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.kept.lock().unwrap().push(Captured {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields,
        });
    }

    // No spans are made by the code under test.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}
