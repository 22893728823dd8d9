//! Single flight: many callers wait on one operation and all get its result.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct Slot<T> {
    result: Option<T>,
    wakers: Vec<Waker>,
}

/// One operation in flight; clones share it.
pub(crate) struct Flight<T: Clone>(Rc<RefCell<Slot<T>>>);

impl<T: Clone> Clone for Flight<T> {
    fn clone(&self) -> Self {
        Flight(self.0.clone())
    }
}

impl<T: Clone + 'static> Flight<T> {
    /// Starts `work` on the browser's task queue; every clone's [`wait`](Self::wait) gets its result.
    pub(crate) fn start(work: impl Future<Output = T> + 'static) -> Self {
        let flight = Flight(Rc::new(RefCell::new(Slot { result: None, wakers: Vec::new() })));
        let slot = flight.0.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = work.await;
            let wakers = {
                let mut s = slot.borrow_mut();
                s.result = Some(result);
                std::mem::take(&mut s.wakers)
            };
            for w in wakers {
                w.wake();
            }
        });
        flight
    }

    /// Waits for the result.
    pub(crate) fn wait(&self) -> Wait<T> {
        Wait(self.0.clone())
    }

    /// True once the result is in.
    pub(crate) fn is_done(&self) -> bool {
        self.0.borrow().result.is_some()
    }
}

/// The future of [`Flight::wait`].
pub(crate) struct Wait<T>(Rc<RefCell<Slot<T>>>);

impl<T: Clone> Future for Wait<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.borrow_mut();
        match &slot.result {
            Some(r) => Poll::Ready(r.clone()),
            None => {
                slot.wakers.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
